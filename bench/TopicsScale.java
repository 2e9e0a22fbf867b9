import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;

/**
 * Topic-count load for bench/topics-scale.sh: {@code create N BATCH} creates topics t00000.. (1 partition
 * each) with CreateTopics requests of BATCH topics and prints the elapsed time; {@code count} prints how
 * many topics the broker lists. Run as a single-file program:
 * java -cp kafka-clients.jar:slf4j-api.jar bench/TopicsScale.java HOST:PORT create 10000 500
 */
public class TopicsScale {
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", args[0]);
        p.put("request.timeout.ms", "600000");
        p.put("default.api.timeout.ms", "600000");
        try (Admin admin = Admin.create(p)) {
            if (args[1].equals("count")) {
                System.out.println("topics " + admin.listTopics().names().get().size());
                return;
            }
            int n = Integer.parseInt(args[2]), batch = Integer.parseInt(args[3]);
            long start = System.nanoTime();
            for (int from = 0; from < n; from += batch) {
                List<NewTopic> topics = new ArrayList<>();
                for (int i = from; i < Math.min(n, from + batch); i++) topics.add(new NewTopic(String.format("t%05d", i), 1, (short) 1));
                admin.createTopics(topics).all().get();
            }
            System.out.printf("created %d topics in %d ms%n", n, (System.nanoTime() - start) / 1_000_000);
        }
    }
}
