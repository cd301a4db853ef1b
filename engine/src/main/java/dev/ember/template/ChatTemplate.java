package dev.ember.template;
import java.util.*;
public final class ChatTemplate { // PLACEHOLDER until the template branch lands: renders ChatML only
  public static ChatTemplate parse(String s) { return new ChatTemplate(); }
  public String render(List<Map<String,Object>> messages, boolean addGenerationPrompt, String bos, String eos, Map<String,Object> extra) {
    StringBuilder b = new StringBuilder();
    for (Map<String,Object> m : messages) b.append("<|im_start|>").append(m.get("role")).append("\n").append(m.get("content")).append("<|im_end|>\n");
    if (addGenerationPrompt) b.append("<|im_start|>assistant\n");
    return b.toString();
  }
}
