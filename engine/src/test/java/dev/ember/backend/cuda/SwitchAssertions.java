package dev.ember.backend.cuda;

import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What every {@link Switches} user's test asks of its switch. */
final class SwitchAssertions {
    private SwitchAssertions() {
    }

    /**
     * {@code enabled} reads {@code property} as the other switches do: a typo fails naming it, the value other than the
     * default is taken with case and blanks aside, and unset it is {@code dflt}. Clears the property after.
     */
    static void readAsTheOthers(String property, BooleanSupplier enabled, boolean dflt) {
        System.setProperty(property, "nope");
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, enabled::getAsBoolean);
            assertTrue(e.getMessage().contains(property + " is 'nope'; expected true or false"), e.getMessage());
            System.setProperty(property, dflt ? " FALSE " : " TRUE ");
            assertEquals(!dflt, enabled.getAsBoolean());
        } finally {
            System.clearProperty(property);
        }
        assertEquals(dflt, enabled.getAsBoolean(), property + "'s default");
    }
}
