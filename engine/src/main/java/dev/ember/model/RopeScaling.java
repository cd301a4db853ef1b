package dev.ember.model;

import dev.ember.ModelFormatException;

/**
 * Llama-3 style RoPE frequency scaling ({@code rope_scaling.rope_type = "llama3"}).
 * Wavelengths longer than {@code originalMaxPositionEmbeddings / lowFreqFactor} are divided by
 * {@code factor}; shorter than {@code .../highFreqFactor} are kept; in between they are interpolated.
 */
public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {
    public RopeScaling {
        if (!(factor >= 1.0) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalMaxPositionEmbeddings <= 0) {
            throw new ModelFormatException("rope_scaling is invalid: factor=" + factor + ", low_freq_factor=" + lowFreqFactor
                    + ", high_freq_factor=" + highFreqFactor + ", original_max_position_embeddings=" + originalMaxPositionEmbeddings
                    + "; expected factor >= 1, 0 < low < high, original_max_position_embeddings > 0");
        }
    }

    /** The inverse frequency for rotary pair {@code i} of {@code headDim}, scaled as Llama 3 does. */
    public double scaleInvFreq(double invFreq) {
        double lowFreqWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
        double highFreqWavelen = originalMaxPositionEmbeddings / highFreqFactor;
        double wavelen = 2 * Math.PI / invFreq;
        if (wavelen < highFreqWavelen) {
            return invFreq;
        }
        if (wavelen > lowFreqWavelen) {
            return invFreq / factor;
        }
        double smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - smooth) * invFreq / factor + smooth * invFreq;
    }
}
