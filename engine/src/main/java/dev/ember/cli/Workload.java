package dev.ember.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ember.ModelFormatException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A throughput workload in the shape of bench/throughput-256.json: a temperature, ignore_eos, and
 * requests of prompt token ids with their max_tokens.
 */
record Workload(double temperature, boolean ignoreEos, List<Item> requests) {
    record Item(int[] promptTokenIds, int maxTokens) {
    }

    static Workload read(Path file) {
        try {
            JsonNode root = new ObjectMapper().readTree(file.toFile());
            List<Item> items = new ArrayList<>();
            for (JsonNode r : root.path("requests")) {
                JsonNode ids = r.path("prompt_token_ids");
                int[] tokens = new int[ids.size()];
                for (int i = 0; i < tokens.length; i++) {
                    tokens[i] = ids.get(i).asInt();
                }
                items.add(new Item(tokens, r.path("max_tokens").asInt()));
            }
            if (items.isEmpty()) {
                throw new ModelFormatException("workload " + file + " has no \"requests\"");
            }
            return new Workload(root.path("temperature").asDouble(1.0), root.path("ignore_eos").asBoolean(false), items);
        } catch (IOException e) {
            throw new ModelFormatException("cannot read workload " + file + ": " + e.getMessage(), e);
        }
    }
}
