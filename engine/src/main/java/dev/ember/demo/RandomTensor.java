package dev.ember.demo;

/**
 * One tensor of a {@link RandomCheckpoint}: its name, shape and how its values are drawn. Values come from a
 * SplitMix64 stream seeded by (spec seed, tensor name) turned Gaussian by Box-Muller with {@link StrictMath},
 * so they are identical on every JVM and platform.
 */
record RandomTensor(String name, Kind kind, long... shape) {
    enum Kind {
        /** N(0, embeddingStd); rows from usedVocabSize on are zero */
        EMBEDDING,
        /** N(0, std): projection weights and biases */
        LINEAR,
        /** 1 + N(0, normStd) */
        NORM,
        /** all zero */
        ZERO
    }

    long numElements() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    float[] generate(RandomCheckpoint.Spec spec) {
        float[] values = new float[Math.toIntExact(numElements())];
        Gaussian g = new Gaussian(spec.seed(), name);
        switch (kind) {
            case EMBEDDING -> {
                int usedElements = Math.toIntExact((long) spec.usedVocabSize() * shape[1]);
                for (int i = 0; i < usedElements; i++) {
                    values[i] = (float) (spec.embeddingStd() * g.next());
                }
            }
            case LINEAR -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) (spec.std() * g.next());
                }
            }
            case NORM -> {
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) (1.0 + spec.normStd() * g.next());
                }
            }
            case ZERO -> { }
        }
        return values;
    }

    /** Standard normal draws from SplitMix64 (Steele, Lea and Flood's constants) via Box-Muller. */
    private static final class Gaussian {
        private long state;
        private double spare = Double.NaN;

        Gaussian(long seed, String name) {
            // String.hashCode is specified by the JLS, so the seed is stable everywhere
            state = mix(seed) ^ mix(name.hashCode() * 0x9E3779B97F4A7C15L + name.length());
        }

        double next() {
            if (!Double.isNaN(spare)) {
                double s = spare;
                spare = Double.NaN;
                return s;
            }
            double u1 = ((nextLong() >>> 11) + 1) * 0x1.0p-53; // (0, 1]: log(u1) is finite
            double u2 = (nextLong() >>> 11) * 0x1.0p-53;
            double r = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
            double theta = 2.0 * Math.PI * u2;
            spare = r * StrictMath.sin(theta);
            return r * StrictMath.cos(theta);
        }

        private long nextLong() {
            state += 0x9E3779B97F4A7C15L;
            return mix(state);
        }

        private static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }
}
