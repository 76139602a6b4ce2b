#pragma once

// How the YAML writer prints a text so that yaml-cpp reads it back byte for byte. yaml-cpp's
// emitter picks plain or double-quoted style by itself, but gets a few cases wrong (a raw CR
// in a plain scalar ends it early on reading), so these decide first. Texts are valid UTF-8
// (text.h) by the time they get here.

#include "absl/strings/string_view.h"

namespace nslab::topology {

// Whether `text` holds characters that must be escaped in double quotes: controls (CR, tab
// and line breaks among them), DEL and the C1 range, the byte order mark, and the line and
// paragraph separators.
bool NeedsDoubleQuotes(absl::string_view text);

// Whether a YAML tool other than nslab (yq, PyYAML; YAML 1.1 or 1.2) would read the plain
// text as a null, a boolean or a number. nslab's reader takes every value as text, so this
// only keeps such values ("0", "yes", 02:00:00:00:00:01) quoted for the others, as a person
// would write them. Errs towards quoting: a quoted string always reads back the same.
bool ResolvesToNonString(absl::string_view text);

// Whether `text` can print as a literal block (`|`, indented lines, one final line break
// kept) and read back byte for byte. yaml-cpp writes such a block with no indentation or
// chomping indicator, so the text must end in exactly one line break and not start with a
// blank (the reader would take it for indentation); inside, tabs and line breaks are the only
// characters NeedsDoubleQuotes names that it may hold. A line may not start with a long run
// of blanks or dashes either: the reader's nesting guard counts those (yaml_limits.h).
bool PrintsAsLiteral(absl::string_view text);

}  // namespace nslab::topology
