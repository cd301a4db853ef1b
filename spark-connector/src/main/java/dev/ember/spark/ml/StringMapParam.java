package dev.ember.spark.ml;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ember.ConfigException;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.Identifiable;

import java.util.Map;
import java.util.TreeMap;

/** A Spark ML param holding a {@code Map<String, String>}, saved as a JSON object. Immutable. */
public final class StringMapParam extends Param<Map<String, String>> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    public StringMapParam(Identifiable parent, String name, String doc) {
        super(parent, name, doc);
    }

    @Override
    public String jsonEncode(Map<String, String> value) {
        try {
            return JSON.writeValueAsString(new TreeMap<>(value));
        } catch (JsonProcessingException e) {
            throw new ConfigException("cannot write param '" + name() + "' as JSON: " + e.getOriginalMessage(), e);
        }
    }

    @Override
    public Map<String, String> jsonDecode(String json) {
        try {
            return JSON.readValue(json, new TypeReference<TreeMap<String, String>>() { });
        } catch (JsonProcessingException e) {
            throw new ConfigException("param '" + name() + "' is '" + json + "'; allowed: a JSON object of strings", e);
        }
    }
}
