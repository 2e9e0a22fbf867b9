import javax.crypto.Cipher;
import javax.crypto.spec.ChaCha20ParameterSpec;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.lang.management.ManagementFactory;

/**
 * CPU ns per byte to seal 16 KiB records (a TLS record's size) with AES-128-GCM and ChaCha20-Poly1305, three rounds of
 * 12,000 records each, on this thread: what the JIT makes of the JDK's ciphers. Source-launch mode, e.g.
 * {@code java -XX:TieredStopAtLevel=1 bench/CipherCost.java} (C1 only, as bin/kiri runs a plaintext broker) against
 * {@code java bench/CipherCost.java} (C2, with the AES-GCM and ChaCha20 intrinsics).
 */
public class CipherCost {
    public static void main(String[] a) throws Exception {
        byte[] key = new byte[32], rec = new byte[16384], out = new byte[16384 + 16];
        var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (String alg : new String[] {"AES/GCM/NoPadding", "ChaCha20-Poly1305"}) {
            Cipher c = Cipher.getInstance(alg);
            for (int round = 0; round < 3; round++) {
                long bytes = 0, t0 = bean.getCurrentThreadCpuTime();
                for (int i = 0; i < 12_000; i++) {
                    byte[] iv = new byte[12];
                    iv[0] = (byte) i; iv[1] = (byte) (i >> 8); iv[2] = (byte) round;
                    if (alg.startsWith("AES")) c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, 0, 16, "AES"), new GCMParameterSpec(128, iv));
                    else c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "ChaCha20"), new IvParameterSpec(iv));
                    bytes += c.doFinal(rec, 0, rec.length, out, 0);
                }
                long ns = bean.getCurrentThreadCpuTime() - t0;
                System.out.printf("%s round %d: %.2f CPU ns/byte (%.0f MB/s of CPU)%n", alg, round, (double) ns / bytes, bytes / (ns / 1e9) / 1e6);
            }
        }
    }
}
