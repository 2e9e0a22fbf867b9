package kiri.transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLSession;

/** Plaintext: the socket itself; file regions go with zero-copy {@link FileChannel#transferTo}. */
record SocketWire(SocketChannel socket) implements Wire {
    @Override
    public int read(ByteBuffer dst) throws IOException {
        return socket.read(dst);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        return socket.write(srcs, offset, length);
    }

    @Override
    public long transferFrom(FileChannel file, long position, long count) throws IOException {
        return file.transferTo(position, count, socket);
    }

    @Override
    public boolean flush() {
        return true;
    }

    @Override
    public boolean pending() {
        return false;
    }

    @Override
    public boolean bufferedInput() {
        return false;
    }

    @Override
    public SSLSession tlsSession() {
        return null;
    }
}
