package dev.ember.template;

import java.util.Arrays;

/** Maps offsets of the normalized template source to 1-based line:column, for error messages. */
final class SourceMap {
    private final int[] lineStarts;

    SourceMap(String source) {
        int[] starts = new int[16];
        int count = 1;
        for (int i = 0; i < source.length(); i++) {
            if (source.charAt(i) == '\n') {
                if (count == starts.length) {
                    starts = Arrays.copyOf(starts, count * 2);
                }
                starts[count++] = i + 1;
            }
        }
        this.lineStarts = Arrays.copyOf(starts, count);
    }

    int line(int offset) {
        int i = Arrays.binarySearch(lineStarts, offset);
        return (i >= 0 ? i : -i - 2) + 1;
    }

    int column(int offset) {
        return offset - lineStarts[line(offset) - 1] + 1;
    }

    String position(int offset) {
        return line(offset) + ":" + column(offset);
    }

    TemplateSyntaxException error(int offset, String message) {
        return new TemplateSyntaxException(line(offset), column(offset), message);
    }
}
