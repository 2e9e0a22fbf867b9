package kiri.embedded.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives a JUnit 5 test an in-process Kiri broker ({@link kiri.embedded.EmbeddedKiri}), started before it
 * needs it and closed after it, through {@link KiriExtension}.
 *
 * <ul>
 *   <li>A {@code static} field of type {@code EmbeddedKiri} annotated {@code @KiriBroker}, or an
 *       {@code EmbeddedKiri} parameter of a {@code @BeforeAll}/{@code @AfterAll} method: one broker for the
 *       whole class, closed after its last test.</li>
 *   <li>An instance field annotated {@code @KiriBroker}, or an {@code EmbeddedKiri} parameter of a test,
 *       {@code @BeforeEach} or {@code @AfterEach} method: a fresh broker for each test (the same one for all
 *       of these within that test), closed after it.</li>
 * </ul>
 *
 * <p>On a class or method it registers the extension and sets the defaults for the brokers created
 * there; on a field or parameter it sets that broker's settings. A scope's broker takes the settings
 * of whichever annotation asked for it first (field or parameter, then method, then class).
 */
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.FIELD, ElementType.PARAMETER, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(KiriExtension.class)
public @interface KiriBroker {
    /** Any storage URL, e.g. {@code memory://} (the default) or {@code null://}. */
    String storage() default "memory://";

    /** Topics to create before the test runs: {@code "name"} (one partition) or {@code "name:partitions"}. */
    String[] topics() default {};

    /** Kafka's {@code auto.create.topics.enable}. */
    boolean autoCreateTopics() default true;

    /** Kafka's {@code num.partitions}, for auto-created topics. */
    int defaultPartitions() default 1;
}
