package dev.ember.guided;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ember.ModelFormatException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bytes each token id stands for, read from a Hugging Face {@code tokenizer.json}: what the token adds to the
 * decoded output. Byte-level BPE vocabularies (GPT-2, Qwen, Llama 3) spell bytes in GPT-2's byte-to-unicode
 * alphabet; SentencePiece-style vocabularies (BPE with byte fallback, or Unigram) write a space as U+2581 and
 * raw bytes as {@code <0xAB>}. Special added tokens (and ids no token has) have no bytes: a constraint never
 * allows them inside its output. Immutable; thread-safe.
 */
public final class TokenVocabulary {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern BYTE_TOKEN = Pattern.compile("<0x([0-9A-Fa-f]{2})>");

    private final byte[][] bytes;
    private final String fingerprint;

    /** @param bytes per id the token's bytes, or null for a special token or an unused id (not copied) */
    public TokenVocabulary(byte[][] bytes) {
        this.bytes = bytes;
        this.fingerprint = Integer.toHexString(Arrays.deepHashCode(bytes)) + ":" + bytes.length;
    }

    /** Reads {@code tokenizer.json} (the file itself, or the directory holding it). */
    public static TokenVocabulary load(Path tokenizerJson) {
        Path file = tokenizerJson.toFile().isDirectory() ? tokenizerJson.resolve("tokenizer.json") : tokenizerJson;
        JsonNode root;
        try {
            root = readWithoutMerges(file);
        } catch (IOException e) {
            throw new ModelFormatException("cannot read the vocabulary of " + file + ": " + e.getMessage(), e);
        }
        return fromJson(root, file.toString());
    }

    /**
     * The parts of tokenizer.json a vocabulary needs (model type and vocab, added tokens, decoder, pre-tokenizer),
     * streamed so the merges list, as large as the vocabulary, is skipped rather than built as a tree.
     */
    private static JsonNode readWithoutMerges(Path file) throws IOException {
        com.fasterxml.jackson.databind.node.ObjectNode root = JSON.createObjectNode();
        try (com.fasterxml.jackson.core.JsonParser p = JSON.getFactory().createParser(file.toFile())) {
            if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                if (name.equals("model") && p.currentToken() == com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
                    com.fasterxml.jackson.databind.node.ObjectNode model = root.putObject("model");
                    while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                        String field = p.currentName();
                        p.nextToken();
                        if (field.equals("merges")) {
                            p.skipChildren();
                        } else {
                            model.set(field, p.readValueAsTree());
                        }
                    }
                } else if (name.equals("added_tokens") || name.equals("decoder") || name.equals("pre_tokenizer")) {
                    root.set(name, p.readValueAsTree());
                } else {
                    p.skipChildren();
                }
            }
        }
        return root;
    }

    static TokenVocabulary fromJson(JsonNode root, String source) {
        JsonNode model = root.path("model");
        String type = model.path("type").asText("");
        boolean byteLevel = mentionsByteLevel(root.path("decoder")) || mentionsByteLevel(root.path("pre_tokenizer"));
        int size = 0;
        JsonNode vocab = model.get("vocab");
        if (vocab == null) {
            throw new ModelFormatException(source + " has no model.vocab; Ember reads BPE and Unigram vocabularies");
        }
        String[] pieces;
        if (vocab.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                size = Math.max(size, it.next().getValue().asInt() + 1);
            }
            pieces = new String[size];
            vocab.fields().forEachRemaining(e -> pieces[e.getValue().asInt()] = e.getKey());
        } else if (vocab.isArray() && "Unigram".equals(type)) {
            pieces = new String[vocab.size()];
            for (int i = 0; i < vocab.size(); i++) {
                pieces[i] = vocab.get(i).get(0).asText();
            }
        } else {
            throw new ModelFormatException(source + ": unsupported tokenizer model '" + type
                    + "'; Ember reads BPE and Unigram vocabularies");
        }
        int n = pieces.length;
        JsonNode added = root.path("added_tokens");
        for (JsonNode a : added) {
            n = Math.max(n, a.path("id").asInt() + 1);
        }
        byte[][] bytes = new byte[n][];
        int[] unicodeToByte = byteLevel ? unicodeToByte() : null;
        for (int id = 0; id < pieces.length; id++) {
            String p = pieces[id];
            if (p != null) {
                bytes[id] = byteLevel ? byteLevelBytes(p, unicodeToByte) : sentencePieceBytes(p);
            }
        }
        for (JsonNode a : added) {
            int id = a.path("id").asInt();
            bytes[id] = a.path("special").asBoolean(false) ? null
                    : a.path("content").asText().getBytes(StandardCharsets.UTF_8);
        }
        return new TokenVocabulary(bytes);
    }

    private static boolean mentionsByteLevel(JsonNode n) {
        if (n.isObject()) {
            if ("ByteLevel".equals(n.path("type").asText())) {
                return true;
            }
            for (JsonNode child : n) {
                if (mentionsByteLevel(child)) {
                    return true;
                }
            }
        } else if (n.isArray()) {
            for (JsonNode child : n) {
                if (mentionsByteLevel(child)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Number of ids (the largest id + 1). */
    public int size() {
        return bytes.length;
    }

    /** The token's bytes, or null when a constraint must never allow it. Not a copy: do not modify. */
    public byte[] bytes(int id) {
        return id >= 0 && id < bytes.length ? bytes[id] : null;
    }

    /** Identifies the vocabulary's content, for cache keys. */
    String fingerprint() {
        return fingerprint;
    }

    private static byte[] byteLevelBytes(String piece, int[] unicodeToByte) {
        byte[] out = new byte[piece.length()];
        for (int i = 0; i < piece.length(); i++) {
            char c = piece.charAt(i);
            int b = c < unicodeToByte.length ? unicodeToByte[c] : -1;
            if (b < 0) {
                // not in the byte alphabet (an added token written as text): take its UTF-8
                return piece.getBytes(StandardCharsets.UTF_8);
            }
            out[i] = (byte) b;
        }
        return out;
    }

    private static byte[] sentencePieceBytes(String piece) {
        Matcher m = BYTE_TOKEN.matcher(piece);
        if (m.matches()) {
            return new byte[] {(byte) Integer.parseInt(m.group(1), 16)};
        }
        return piece.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
    }

    /** GPT-2's byte-to-unicode table, inverted: printable Latin-1 bytes stand for themselves, the rest 256 + n. */
    static int[] unicodeToByte() {
        int[] inverse = new int[512];
        Arrays.fill(inverse, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            if (printable) {
                inverse[b] = b;
            } else {
                inverse[256 + n++] = b;
            }
        }
        return inverse;
    }
}
