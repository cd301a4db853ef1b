package dev.ember.template;

import java.util.LinkedHashMap;
import java.util.Map;

/** jinja2's namespace(): the one mutable object a template may create, assigned with {@code set ns.x = ...}. */
final class Namespace {
    final Map<String, Object> attributes = new LinkedHashMap<>();
}
