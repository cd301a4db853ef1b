#!/usr/bin/env python3
"""Writes conversations/<template>.json: the cases chat_reference.py renders for each test template."""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "conversations")

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a city, e.g. \"Paris\" — précis.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city"]}}}
TIME_TOOL = {"type": "function", "function": {"name": "get_time", "description": "Current time",
                                               "parameters": {"type": "object", "properties": {}}}}


def case(messages, agp=True, **extra):
    c = {"messages": messages, "add_generation_prompt": agp}
    if extra:
        c["extra"] = extra
    return c


SYS = {"role": "system", "content": "You are a helpful assistant."}
U1 = {"role": "user", "content": "Hello, how are you?"}
A1 = {"role": "assistant", "content": "I'm fine, thanks. How can I help?"}
U2 = {"role": "user", "content": "What is 2+2?"}
A_THINK = {"role": "assistant", "content": "<think>\nThe user asks 2+2. That is 4.\n</think>\n\nIt is 4."}
U3 = {"role": "user", "content": "And 3+3?"}
A_THINK_LAST = {"role": "assistant", "content": "<think>\n3+3 is 6\n</think>\n\n6."}
UNICODE = {"role": "user", "content": "Grüße! 你好 🌍 — «ça va?» ﷺ naïve\ttab\u00a0nbsp"}
EMPTY_U = {"role": "user", "content": ""}
EMPTY_A = {"role": "assistant", "content": ""}
CALL = {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {
    "name": "get_weather", "arguments": {"city": "Zürich", "unit": "celsius"}}}]}
CALL_TEXT = {"role": "assistant", "content": "Let me check.", "tool_calls": [
    {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
    {"type": "function", "function": {"name": "get_time", "arguments": "{\"tz\": \"CET\"}"}}]}
TOOL1 = {"role": "tool", "content": "{\"temperature\": 21, \"sky\": \"clear\"}"}
TOOL2 = {"role": "tool", "content": "12:00"}
A_AFTER = {"role": "assistant", "content": "It is 21 °C and clear in Zürich."}

common = [
    case([SYS, U1]),
    case([U1], agp=False),
    case([SYS, U1, A1, U2], agp=True),
    case([SYS, U1, A1, U2], agp=False),
    case([U1, A1, U2, A_THINK, U3]),
    case([U1, A_THINK, U3, A_THINK_LAST], agp=False),
    case([UNICODE]),
    case([EMPTY_U, EMPTY_A, U2]),
]

sets = {}
sets["qwen3"] = common + [
    case([SYS, U1], enable_thinking=False),
    case([U1, A_THINK], agp=False, enable_thinking=True),
    case([U1, {"role": "assistant", "content": "Answer.", "reasoning_content": "Hidden reasoning."}, U2]),
    case([U1, {"role": "assistant", "content": "Answer.", "reasoning_content": "Hidden reasoning."}], agp=False),
    case([SYS, U1, CALL, TOOL1, A_AFTER], agp=False, tools=[WEATHER_TOOL, TIME_TOOL]),
    case([U1, CALL_TEXT, TOOL1, TOOL2, U3], tools=[WEATHER_TOOL, TIME_TOOL]),
    case([U1, CALL, {"role": "user", "content": "<tool_response>\nok\n</tool_response>"}], tools=[WEATHER_TOOL]),
    case([U1, {"role": "assistant", "content": "<think>thinking without newlines</think>answer"}, U2,
          {"role": "assistant", "content": "\n\n<think>\n\nlast\n\n</think>\n\n\nfinal"}], agp=False),
    case([{"role": "system", "content": "first"}, U1, {"role": "system", "content": "second system"}, U2]),
    # content missing: the template fails on `'</think>' in message.content` for an assistant turn
    case([U1, {"role": "assistant"}]),
]
sets["chatml_tools"] = common + [
    case([SYS, U1, CALL, TOOL1, A_AFTER], agp=False, tools=[WEATHER_TOOL]),
    case([U1, CALL_TEXT, TOOL1, TOOL2, U3], tools=[WEATHER_TOOL, TIME_TOOL]),
    case([U1, CALL], tools=[]),
]
sets["llama3"] = common + [
    case([SYS, U1], date_string="01 Jan 2025"),
    case([SYS, U1, CALL, {"role": "ipython", "content": {"temperature": 21}}, A_AFTER],
         agp=False, tools=[WEATHER_TOOL]),
    case([U1, CALL, TOOL1], tools=[WEATHER_TOOL], tools_in_user_message=False),
    case([U1, {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "brave_search", "arguments": {"query": "weather"}}}]}],
         builtin_tools=["brave_search", "code_interpreter", "wolfram_alpha"]),
    case([SYS], tools=[WEATHER_TOOL]),  # raises: no first user message to carry the tools
    case([U1, CALL_TEXT], tools=[WEATHER_TOOL]),  # raises: two tool calls
]
sets["mistral"] = [
    case([U1, A1, U2]),
    case([SYS, U1, A1, U2], agp=False),
    case([UNICODE]),
    case([EMPTY_U, EMPTY_A]),
    case([U1, U2]),  # raises: roles do not alternate
    case([U1, A1, {"role": "tool", "content": "x"}]),  # raises
]
sets["gemma"] = [
    case([U1, A1, U2]),
    case([U1], agp=False),
    case([{"role": "user", "content": "  padded  \n"}, {"role": "assistant", "content": "\n ok \n"}]),
    case([UNICODE]),
    case([SYS, U1]),  # raises: system role
    case([A1]),  # raises: alternation
]
FEAT_EXTRA = {"role": "user", "content": "Hi there, hello world?",
              "extra": {"nums": [5, 2, 9, 2, 1], "name": "x", "flag": True, "ratio": 0.25,
                        "nested": {"z": None, "a": "é"}}}
sets["features"] = [
    case([SYS, U1, A1, U2]),
    case([FEAT_EXTRA, CALL, TOOL1], agp=False),
    case([UNICODE, EMPTY_A]),
    case([SYS], agp=False),
]
sets["whitespace"] = [case([SYS, U1, A1]), case([U1], agp=False)]
sets["whitespace_crlf"] = sets["whitespace"]

os.makedirs(OUT, exist_ok=True)
for name, cases in sets.items():
    with open(os.path.join(OUT, name + ".json"), "w", encoding="utf-8") as f:
        json.dump({"cases": cases}, f, ensure_ascii=False, indent=1)
print("wrote", ", ".join(sorted(sets)))
