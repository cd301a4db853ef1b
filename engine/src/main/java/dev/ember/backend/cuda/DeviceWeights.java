package dev.ember.backend.cuda;

import dev.ember.model.ModelConfig;
import dev.ember.weights.DType;
import dev.ember.weights.LayerWeights;
import dev.ember.weights.ModelWeights;
import dev.ember.weights.TensorView;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * A model's weights on the device in the compute dtype, with the q/k/v projections (and their biases)
 * concatenated into one (qkvSize, hidden) matrix and gate/up into one (2 * intermediate, hidden) matrix, so
 * each is one GEMM. Tensors already in the compute dtype are copied straight from the mapped checkpoint;
 * others are converted on the host in chunks. Owns every buffer; {@code close()} frees them all.
 */
final class DeviceWeights implements AutoCloseable {
    /** One decoder layer's device tensors; bias and norm buffers are null where the architecture has none. */
    record Layer(DeviceBuffer inputNorm, DeviceBuffer qkv, DeviceBuffer qkvBias, DeviceBuffer qNorm, DeviceBuffer kNorm,
                 DeviceBuffer oProj, DeviceBuffer postAttnNorm, DeviceBuffer gateUp, DeviceBuffer down) {
    }

    /** Where one checkpoint tensor landed on the device (in the compute dtype), for the finiteness check. */
    record Part(String name, long address, long numElements) {
    }

    private static final int CHUNK_ELEMENTS = 4 << 20;

    final DType dtype;
    /** (vocab, hidden) */
    final DeviceBuffer embedTokens;
    /** (hidden) */
    final DeviceBuffer finalNorm;
    /** (vocab, hidden); the same buffer as embedTokens when the embeddings are tied */
    final DeviceBuffer lmHead;
    final List<Layer> layers;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final List<Part> parts = new ArrayList<>();
    private long totalBytes;

    DeviceWeights(ModelConfig config, ModelWeights weights, DType dtype) {
        this.dtype = dtype;
        try {
            embedTokens = upload("embed_tokens", weights.embedTokens());
            finalNorm = upload("norm", weights.finalNorm());
            lmHead = weights.lmHead() == weights.embedTokens() || config.tieWordEmbeddings()
                    ? embedTokens : upload("lm_head", weights.lmHead());
            List<Layer> list = new ArrayList<>();
            for (int i = 0; i < weights.layers().size(); i++) {
                LayerWeights w = weights.layers().get(i);
                String p = "layer " + i + " ";
                DeviceBuffer bias = w.qBias() == null ? null : upload(p + "qkv bias", w.qBias(), w.kBias(), w.vBias());
                list.add(new Layer(upload(p + "input_layernorm", w.inputNorm()),
                        upload(p + "qkv_proj", w.qProj(), w.kProj(), w.vProj()), bias,
                        w.qNorm() == null ? null : upload(p + "q_norm", w.qNorm()),
                        w.kNorm() == null ? null : upload(p + "k_norm", w.kNorm()),
                        upload(p + "o_proj", w.oProj()), upload(p + "post_attention_layernorm", w.postAttnNorm()),
                        upload(p + "gate_up_proj", w.gateProj(), w.upProj()), upload(p + "down_proj", w.downProj())));
            }
            layers = List.copyOf(list);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    long totalBytes() {
        return totalBytes;
    }

    /** Every uploaded checkpoint tensor, in upload order. */
    List<Part> parts() {
        return List.copyOf(parts);
    }

    /** Allocates one buffer holding the parts one after another (row concatenation), converted to the dtype. */
    private DeviceBuffer upload(String label, TensorView... parts) {
        long elements = 0;
        for (TensorView t : parts) {
            elements += t.numElements();
        }
        DeviceBuffer buf = new DeviceBuffer(elements * dtype.sizeBytes(), "weights: " + label);
        owned.add(buf);
        totalBytes += buf.sizeBytes();
        long offset = 0;
        for (TensorView t : parts) {
            this.parts.add(new Part(t.name(), buf.address(offset), t.numElements()));
            if (t.dtype() == dtype && t.chunk(0).isDirect()) {
                for (int c = 0; c < t.numChunks(); c++) {
                    buf.upload(offset + c * TensorView.CHUNK_BYTES, t.chunk(c));
                }
            } else {
                convertAndUpload(buf, offset, t);
            }
            offset += t.numElements() * dtype.sizeBytes();
        }
        return buf;
    }

    private void convertAndUpload(DeviceBuffer buf, long offset, TensorView t) {
        int size = dtype.sizeBytes();
        ByteBuffer chunk = ByteBuffer.allocateDirect((int) Math.min(t.numElements(), CHUNK_ELEMENTS) * size)
                .order(ByteOrder.LITTLE_ENDIAN);
        for (long start = 0; start < t.numElements(); start += CHUNK_ELEMENTS) {
            int n = (int) Math.min(CHUNK_ELEMENTS, t.numElements() - start);
            chunk.clear();
            for (int i = 0; i < n; i++) {
                float v = t.get(start + i);
                switch (dtype) {
                    case F32 -> chunk.putFloat(v);
                    case BF16 -> chunk.putShort(DType.floatToBf16(v));
                    case F16 -> chunk.putShort(DType.floatToF16(v));
                }
            }
            chunk.flip();
            buf.upload(offset + start * size, chunk);
        }
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (DeviceBuffer b : owned) {
            try {
                b.close();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        owned.clear();
        if (first != null) {
            throw first;
        }
    }
}
