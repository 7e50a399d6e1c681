# SPDX-License-Identifier: GPL-2.0-only
# help2roff.awk: turns a stream of --help texts (from gen-man) into man(7) source.
#
# Input: blocks introduced by marker lines
#   @@TOP                 the program's own --help (SYNOPSIS, DESCRIPTION, EXIT STATUS)
#   @@CMD TITLE           a command's --help (a subsection of COMMANDS)
#   @@NI TITLE            a command whose --help says "not implemented yet"
# Help text conventions it relies on (lib/cli.c and each command's help()):
#   "Usage: ..." plus indented continuation lines; "Heading:" lines introduce a list;
#   list items are "  TAG  description" (TAG starting with '-' or a command name) with
#   deeper-indented continuation lines; "Exit codes:"/"Exit status:" paragraphs.
# Every word of the help text reaches the page (tests/package/man_pages.sh checks that
# every option in each --help is on the page and vice versa), except the "Run '... --help'"
# pointer, which the page itself replaces. A titled list identical to one printed earlier
# (pseudopodctl's store options, repeated by every command) is printed once and referred to.
# POSIX awk only (Debian's default awk is mawk).

function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	if (s ~ /^[.']/)
		s = "\\&" s
	return s
}

function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

function out(s) {
	body = body s "\n"
}

function para() {
	if (need_pp) {
		out(".PP")
		need_pp = 0
	}
}

function end_usage() {
	if (in_usage) {
		out(".fi")
		in_usage = 0
	}
}

# A titled list is buffered until it ends, so that a repeat can be replaced by a reference.
function end_list(    key) {
	if (!in_list)
		return
	in_list = 0
	in_item = 0
	key = list_title "\n" list_text
	if (key in seen_list) {
		out(".PP")
		out(esc(list_title) " as for \\fB" esc(seen_list[key]) "\\fR.")
	} else {
		seen_list[key] = title
		out(".PP")
		out(".B " esc(list_title))
		body = body list_roff
	}
	list_text = ""
	list_roff = ""
}

function end_block() {
	end_usage()
	end_list()
	in_item = 0
	in_exit = 0
}

function lout(s) {
	if (in_list)
		list_roff = list_roff s "\n"
	else
		out(s)
}

# "  -c, --config FILE   text" or "  enroll       text": the tag ends at the first run of
# two or more spaces; a tag with no such run is the whole line.
function item(line,    rest, pos, tag, desc) {
	rest = line
	sub(/^ +/, "", rest)
	pos = match(rest, /  +/)
	if (pos) {
		tag = substr(rest, 1, pos - 1)
		desc = trim(substr(rest, pos))
	} else {
		tag = rest
		desc = ""
	}
	lout(".TP")
	lout("\\fB" esc(tag) "\\fR")
	if (desc != "")
		lout(esc(desc))
	in_item = 1
}

function flush_top() {
	if (synopsis != "")
		printf ".SH SYNOPSIS\n.nf\n%s.fi\n", synopsis
	printf ".SH DESCRIPTION\n%s", body
	if (prose_desc != "")
		printf "%s", prose_desc
	body = ""
}

BEGIN {
	mode = ""
	ncmd = 0
	prose_desc = ""
	if (prose_file != "") {
		while ((getline l < prose_file) > 0)
			prose_desc = prose_desc l "\n"
		close(prose_file)
	}
}

/^@@TOP$/ {
	end_block()
	mode = "top"
	title = prog
	next
}

/^@@(CMD|NI) / {
	end_block()
	if (mode == "top")
		flush_top()
	if (ncmd++ == 0)
		printf ".SH COMMANDS\n"
	printf "%s", body
	body = ""
	title = $0
	sub(/^@@(CMD|NI) /, "", title)
	out(".SS \"" esc(title) "\"")
	if ($0 ~ /^@@NI /)
		out("Not implemented in this version: the command exits with status 2.")
	mode = "cmd"
	need_pp = 0
	next
}

mode == "top" && /^Usage: / {
	end_block()
	synopsis = synopsis esc(substr($0, 8)) "\n"
	in_usage = 2
	next
}

in_usage == 2 && /^ +[^ ]/ {
	line = $0
	if (!sub(/^       /, "", line))
		line = trim(line)
	synopsis = synopsis esc(line) "\n"
	next
}

/^Usage: / {
	end_block()
	para()
	out(".nf")
	out(esc(substr($0, 8)))
	in_usage = 1
	next
}

# Continuation lines are indented under "Usage: ", which the page drops: drop its width.
in_usage == 1 && /^ +[^ ]/ {
	line = $0
	if (!sub(/^       /, "", line))
		line = trim(line)
	out(esc(line))
	next
}

{
	if (in_usage == 2)
		in_usage = 0
	end_usage()
}

/^Run '.*--help' for/ {
	next
}

/^[ \t]*$/ {
	end_list()
	in_item = 0
	in_exit = 0
	need_pp = 1
	next
}

mode == "top" && /^Exit (codes|status):/ {
	end_list()
	exit_text = exit_text esc(trim($0)) "\n"
	in_exit = 1
	next
}

in_exit {
	exit_text = exit_text esc(trim($0)) "\n"
	next
}

/^[A-Z][A-Za-z ]*:$/ {
	end_list()
	in_list = 1
	list_title = $0
	list_text = ""
	list_roff = ""
	next
}

/^ +-/ || (in_list && /^  [a-z]/) {
	if (in_list)
		list_text = list_text $0 "\n"
	else
		para()
	item($0)
	next
}

in_item && /^   +[^ ]/ {
	if (in_list)
		list_text = list_text $0 "\n"
	lout(esc(trim($0)))
	next
}

{
	end_list()
	in_item = 0
	para()
	out(esc(trim($0)))
}

END {
	end_block()
	if (mode == "top")
		flush_top()
	printf "%s", body
	if (exit_text != "")
		printf ".SH \"EXIT STATUS\"\n%s", exit_text
}
