"""Text an agent wrote, as reviewers see it: never able to pass for the gate's own words.

Everything in a proposal is the agent's (the justification, the changes, the target, the
work item, even the action type), and a reason's message may quote it. Wherever a person
reads it (a Slack message, the review page) it is shown as the agent's, in a box of its own,
on the lines it fits: control characters (new lines, tabs, and the invisible ones that
reorder text) are shown as visible marks, and a value longer than its place is shortened
with a mark that says how many characters were left out, so a cut can never hide the end of
a value (`acct_customer_4242 …;acct_OTHER` does not show as `acct_customer_4242`)."""

from __future__ import annotations

import unicodedata

# What a control character is shown as; any other one (bidi overrides, zero widths, NUL…)
# as its code point.
_VISIBLE = {"\n": "⏎", "\r": "␍", "\t": "⇥"}
# Unicode's control, format, line and paragraph separator categories.
_INVISIBLE = {"Cc", "Cf", "Zl", "Zp"}


def visible(value: object, *, keep_lines: bool = False) -> str:
    """The text with every control character shown as a mark (new lines kept as lines when
    `keep_lines`: a multi-line justification inside its own box)."""
    shown = []
    for char in str(value):
        if keep_lines and char == "\n":
            shown.append(char)
        elif char in _VISIBLE:
            shown.append(_VISIBLE[char])
        elif unicodedata.category(char) in _INVISIBLE:
            shown.append(f"\\u{ord(char):04x}")
        else:
            shown.append(char)
    return "".join(shown)


def shortened(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters; else its start, then a mark with how many
    characters were left out (the whole fits in `limit`, for a limit of a few characters)."""
    if len(text) <= limit:
        return text
    kept = limit
    while kept > 0:
        mark = f"…+{len(text) - kept}"
        if kept + len(mark) <= limit:
            return text[:kept] + mark
        kept -= 1
    return f"…+{len(text)}"


def one_line(value: object, limit: int) -> str:
    """A value shown on one line of at most `limit` characters."""
    return shortened(visible(value), limit)
