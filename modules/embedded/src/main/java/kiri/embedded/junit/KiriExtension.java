package kiri.embedded.junit;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import kiri.embedded.EmbeddedKiri;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The JUnit 5 extension behind {@link KiriBroker}: starts one broker per class or per test on demand, injects
 * it into annotated fields and {@code EmbeddedKiri} parameters, and closes it when that scope ends (after the
 * scope's own {@code @AfterEach}/{@code @AfterAll} methods). Stateless: brokers live in JUnit's extension
 * store of the class's or the test's context, so parallel tests each get their own.
 */
public final class KiriExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback,
        ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(KiriExtension.class);
    /** Distinct keys: a test context's store falls back to its class's store on a miss. */
    private static final String CLASS_BROKER = "class-broker";
    private static final String TEST_BROKER = "test-broker";

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        for (Class<?> c = context.getRequiredTestClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : brokerFields(c)) {
                if (Modifier.isStatic(f.getModifiers())) {
                    f.set(null, broker(context, CLASS_BROKER, f.getAnnotation(KiriBroker.class)));
                }
            }
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
            for (Class<?> c = instance.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
                for (Field f : brokerFields(c)) {
                    if (!Modifier.isStatic(f.getModifiers())) {
                        f.set(instance, broker(context, TEST_BROKER, f.getAnnotation(KiriBroker.class)));
                    }
                }
            }
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        close(context, TEST_BROKER);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close(context, CLASS_BROKER);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == EmbeddedKiri.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        String key = context.getTestMethod().isPresent() ? TEST_BROKER : CLASS_BROKER;
        return broker(context, key, parameter.findAnnotation(KiriBroker.class).orElse(null));
    }

    /** The scope's broker, started now with the closest settings if it has none yet. */
    private static EmbeddedKiri broker(ExtensionContext context, String key, KiriBroker own) {
        ExtensionContext.Store store = context.getStore(NAMESPACE);
        return store.getOrComputeIfAbsent(key, k -> start(own != null ? own : closest(context)), EmbeddedKiri.class);
    }

    private static void close(ExtensionContext context, String key) {
        EmbeddedKiri broker = context.getStore(NAMESPACE).remove(key, EmbeddedKiri.class);
        if (broker != null) {
            broker.close();
        }
    }

    /** The annotation on the test method, else on the test class or the classes enclosing it; null: defaults. */
    private static KiriBroker closest(ExtensionContext context) {
        Optional<KiriBroker> onMethod = context.getTestMethod().map(m -> m.getAnnotation(KiriBroker.class));
        if (onMethod.isPresent()) {
            return onMethod.get();
        }
        for (Class<?> c = context.getTestClass().orElse(null); c != null; c = c.getEnclosingClass()) {
            KiriBroker a = c.getAnnotation(KiriBroker.class);
            if (a != null) {
                return a;
            }
        }
        return null;
    }

    private static EmbeddedKiri start(KiriBroker settings) {
        EmbeddedKiri.Builder b = EmbeddedKiri.builder();
        if (settings != null) {
            b.storage(settings.storage()).autoCreateTopics(settings.autoCreateTopics())
                    .defaultPartitions(settings.defaultPartitions());
            for (String topic : settings.topics()) {
                int colon = topic.lastIndexOf(':');
                if (colon < 0) {
                    b.topic(topic, 1);
                } else {
                    b.topic(topic.substring(0, colon), partitions(topic, colon));
                }
            }
        }
        return b.start();
    }

    private static int partitions(String topic, int colon) {
        try {
            return Integer.parseInt(topic.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ExtensionConfigurationException("@KiriBroker topic '" + topic + "' must look like name or name:partitions");
        }
    }

    /** Fields of {@code c} (not its superclasses) annotated {@code @KiriBroker}; each must be an {@code EmbeddedKiri}. */
    private static List<Field> brokerFields(Class<?> c) {
        List<Field> out = new ArrayList<>();
        for (Field f : c.getDeclaredFields()) {
            if (f.isAnnotationPresent(KiriBroker.class)) {
                if (f.getType() != EmbeddedKiri.class || Modifier.isFinal(f.getModifiers())) {
                    throw new ExtensionConfigurationException("@KiriBroker field " + c.getName() + "." + f.getName()
                            + " must be a non-final field of type " + EmbeddedKiri.class.getName());
                }
                f.setAccessible(true);
                out.add(f);
            }
        }
        return out;
    }
}
