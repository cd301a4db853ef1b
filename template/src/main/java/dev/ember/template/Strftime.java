package dev.ember.template;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/** Python's {@code datetime.now().strftime(fmt)} for transformers' strftime_now global (C locale). */
final class Strftime {
    private Strftime() {
    }

    static String format(String fmt, ZonedDateTime t) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                b.append(c);
                continue;
            }
            char d = fmt.charAt(++i);
            switch (d) {
                case 'a': b.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH)); break;
                case 'A': b.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH)); break;
                case 'b':
                case 'h': b.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH)); break;
                case 'B': b.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH)); break;
                case 'd': b.append(two(t.getDayOfMonth())); break;
                case 'e': b.append(String.format("%2d", t.getDayOfMonth())); break;
                case 'm': b.append(two(t.getMonthValue())); break;
                case 'y': b.append(two(t.getYear() % 100)); break;
                case 'Y': b.append(t.getYear()); break;
                case 'H': b.append(two(t.getHour())); break;
                case 'I': b.append(two(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12)); break;
                case 'M': b.append(two(t.getMinute())); break;
                case 'S': b.append(two(t.getSecond())); break;
                case 'f': b.append(String.format("%06d", t.getNano() / 1000)); break;
                case 'p': b.append(t.getHour() < 12 ? "AM" : "PM"); break;
                case 'j': b.append(String.format("%03d", t.getDayOfYear())); break;
                case 'w': b.append(t.getDayOfWeek().getValue() % 7); break;
                case 'u': b.append(t.getDayOfWeek().getValue()); break;
                case 'Z': b.append(t.getZone().getDisplayName(TextStyle.SHORT, Locale.ENGLISH)); break;
                case 'z': b.append(t.getOffset().getId().equals("Z") ? "+0000" : t.getOffset().getId().replace(":", "")); break;
                case 'F': b.append(format("%Y-%m-%d", t)); break;
                case 'T': b.append(format("%H:%M:%S", t)); break;
                case '%': b.append('%'); break;
                default: b.append('%').append(d);
            }
        }
        return b.toString();
    }

    private static String two(int v) {
        return v < 10 ? "0" + v : String.valueOf(v);
    }
}
