/* SPDX-License-Identifier: MIT */
/* The verb table (names, options, operand counts, help), looking verbs up
 * with a "did you mean" for the ones that are not there, and `help`. */
#include "cli.h"

#include <string.h>

const struct verb *verb_find(const char *name) {
  for (const struct verb *v = mmf_verbs; v->name; v++)
    if (!strcmp(v->name, name))
      return v;
  return NULL;
}

void verb_usage(FILE *f, const struct verb *v) {
  fprintf(f, "usage: %s\n\n%s", v->usage, v->help);
  if (v->options & OPT_OUTPUT)
    table_columns_help(f);
}

/* Levenshtein distance between two short words. */
static size_t verb_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 32 || lb > 32)
    return 99;
  size_t d[33][33];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      size_t c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < c)
        c = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < c)
        c = d[i][j - 1] + 1;
      d[i][j] = c;
    }
  return d[la][lb];
}

int verb_unknown(const char *name) {
  const struct verb *best = NULL;
  size_t bd = 3; /* farther than two edits is no typo */
  for (const struct verb *w = mmf_verbs; w->name; w++) {
    size_t d = verb_distance(name, w->name);
    if (d < bd) {
      bd = d;
      best = w;
    }
  }
  char safe[1100];
  printable(name, safe, sizeof safe);
  if (best)
    fprintf(stderr, "mmf: no command '%s'; did you mean '%s'?\n", safe,
            best->name);
  else
    fprintf(stderr, "mmf: no command '%s'; 'mmf help' lists them\n", safe);
  return EXIT_USAGE;
}

/* ---- help ---- */
static int cmd_help(const struct verb *v, const struct opts *o) {
  if (o->nargs == 0) {
    printf("mmf %s - named shared memory and memory-mapped files\n\n"
           "usage: mmf COMMAND [OPTIONS] [ARGS]\n\ncommands:\n",
           mmf_version());
    for (const struct verb *w = mmf_verbs; w->name; w++)
      printf("  %-7s %s\n", w->name, w->summary);
    printf("\nNAME is a map in /dev/shm, or a file path when it contains "
           "'/'.\n'mmf COMMAND --help' tells more; see also mmf(1).\n");
    return EXIT_OK;
  }
  const struct verb *w = verb_find(o->args[0]);
  if (!w)
    return usage_error(v, "no command '%s'; 'mmf help' lists them", o->args[0]);
  verb_usage(stdout, w);
  return EXIT_OK;
}

const struct verb mmf_verbs[] = {
    {"new", cmd_new,
     OPT_SIZE | OPT_OR_OPEN | OPT_RAW | OPT_MODE | OPT_JSON | OPT_COMPACT, 1, 1,
     "create a map of a given capacity",
     "mmf new NAME --size SIZE [--or-open] [--raw] [--compact] [--mode MODE] "
     "[--json]",
     "Create the map NAME with room for SIZE bytes of content (bytes, or\n"
     "1024-based K, M, G, T: 4096, 64K, 1M, 2G).  The map is owner-only\n"
     "unless --mode gives octal bits.  --or-open opens it if it exists;\n"
     "--raw makes a header-less object of exactly SIZE bytes.  --json (-J)\n"
     "prints what 'mmf info --json' says of the new map.\n\n"
     "What it costs: nothing at creation; memory (in /dev/shm) or disk\n"
     "as contents are written.  A map holds two slots of SIZE (a writer\n"
     "fills one while readers copy the other), so up to twice its content.\n"
     "--compact gives the unused slot back after each write: at rest it\n"
     "holds one content, but every write allocates its slot again, and an\n"
     "append copies the whole content instead of only what it adds.  A\n"
     "warning says when the store has less room than the map may need.\n\n"
     "example:\n  mmf new Test --size 64K\n"},
    {"write", cmd_write, OPT_APPEND | OPT_SEP | OPT_JSON, 1, -1,
     "replace (or append to) a map's content",
     "mmf write NAME [TEXT...] [--append] [--separator SEP] [--json]",
     "Write TEXT (the words joined by single spaces, no newline added), or\n"
     "standard input byte for byte, as the map's whole new content.  Readers\n"
     "see the old or the new content, never a mix.  --append adds SEP\n"
     "(default a newline) and then the text.  --json (-J) prints\n"
     "{name, length, seq}: the bytes written and the seq just after.\n\n"
     "examples:\n  mmf write Test hello world\n"
     "  ps -o pid,comm | mmf write Test\n"
     "  mmf write Test --append 'one more line'\n"},
    {"read", cmd_read,
     OPT_WAIT | OPT_AFTER | OPT_TIMEOUT | OPT_OFFSET | OPT_LENGTH |
         OPT_NAME_HEX | OPT_FOLLOW | OPT_JSON | OPT_SEQ,
     1, -1, "print a map's content",
     "mmf read NAME [--wait [--after SEQ]] [--timeout SECONDS] [--json] "
     "[--seq]\n"
     "       mmf read NAME... --follow [--timeout SECONDS] [--json] [--seq]\n"
     "       mmf read RAWNAME [--offset N] [--length N]",
     "Write the content to standard output exactly as stored (on a terminal,\n"
     "with a newline after it if it has none).  --wait first\n"
     "waits for a content newer than SEQ (default: the current one); exit 3\n"
     "when --timeout passes.  For raw maps, --offset and --length pick a\n"
     "byte range.  --follow (-f) prints the content, then every later one\n"
     "as it is published, like tail -f: only the appended bytes when it\n"
     "extends the last one printed, the whole content otherwise (said on\n"
     "stderr); --timeout ends it (exit 0), and so does a pipe whose reader\n"
     "has gone (exit 141, as tail -f); a map removed ends it (exit 1), one\n"
     "made again under the name is followed anew.  --json prints one object\n"
     "per "
     "content: seq, length, appended, and data (or data_base64).  --seq\n"
     "prints 'seq N' on stderr for each content printed, so that\n"
     "'--wait --after N' loops chain exactly.  --follow takes several maps:\n"
     "then each line printed starts with 'NAME: ' (and --json adds "
     "\"name\").\n\n"
     "examples:\n  mmf read Test | jq .\n  mmf read Test --wait --timeout "
     "10\n  mmf read Log --follow\n  mmf read A B --follow\n"},
    {"wait", cmd_wait, OPT_AFTER | OPT_TIMEOUT | OPT_JSON, 1, -1,
     "wait for a newer content and print its seq",
     "mmf wait NAME... [--after SEQ] [--timeout SECONDS] [--json]",
     "Sleep until the map's content is newer than SEQ (default: the current\n"
     "one), then print the new seq.  With several maps, return when any of\n"
     "them changes and print 'NAME SEQ' of the first that did (--after\n"
     "applies to each).  Uses no CPU while waiting; exit 3 when --timeout\n"
     "passes, 1 when a map is removed (or replaced) meanwhile.  --json (-J)\n"
     "prints {name, seq}.\n\n"
     "examples:\n  mmf wait Test --timeout 5\n  mmf wait A B C\n"},
    {"lock", cmd_lock, OPT_TIMEOUT, 2, -1,
     "run a command holding the map's lock",
     "mmf lock NAME [--timeout SECONDS] -- COMMAND [ARG...]",
     "Take the map's lock, run COMMAND, release the lock and exit with the\n"
     "command's status (3 when --timeout passes first).  If mmf dies, the\n"
     "command and everything it started are killed before the lock is let\n"
     "go, and the next locker is told the holder died; so are they when a\n"
     "TERM, HUP or INT ends it.  When COMMAND exits by itself, the lock is\n"
     "let go at once and what it left running in the background is left\n"
     "alone, as flock(1) does, without the lock: have COMMAND wait for its\n"
     "jobs if the lock should cover them.\n\n"
     "example:\n  mmf lock Test -- mmf write Test --append \"B was here\"\n"},
    {"save", cmd_save, OPT_JSON, 2, 2, "save a map's content to a file",
     "mmf save NAME FILE [--json]",
     "Write the content to FILE atomically (a temporary file renamed into\n"
     "place).  --json (-J) prints {name, file, length}.\n\n"
     "example:\n  mmf save Test test.json\n"},
    {"remove", cmd_remove, OPT_FORCE | OPT_NAME_HEX | OPT_JSON, 1, -1,
     "remove maps",
     "mmf remove [-f] [--json] NAME...\n"
     "       mmf remove [-f] [--json] --name-hex HEX",
     "Remove each map's name.  Processes that have it open keep using it\n"
     "until they close it.  A path is removed only if it is an mmf map.\n"
     "-f (--force): a map that does not exist is no error.  --name-hex\n"
     "names an object by its bytes in hex (as 'mmf list --json' prints\n"
     "name_hex), for names with spaces, control bytes or a leading dot.\n"
     "--json (-J) prints [{name, removed, error}], one object a name.\n\n"
     "example:\n  mmf remove Test\n"},
    {"info", cmd_info,
     OPT_JSON | OPT_BYTES | OPT_NAME_HEX | OPT_RAW | OPT_TABLE, 1, 1,
     "describe a map",
     "mmf info NAME [--json] [-b] [-o COLS] [--noheadings] [--raw] [-n] "
     "[-e]\n"
     "       mmf info --name-hex HEX [OPTIONS]",
     "Show the map's kind, capacity, length, seq, mode, owner, times, its\n"
     "holders (open handles, and the pids of those this PID namespace can\n"
     "see) and its lock holder, one field a line; STATE says 'orphaned'\n"
     "for a transient map nobody holds any more (looking removes nothing:\n"
     "'mmf remove' it).  Sizes read 64 KiB; -b (--bytes) gives exact byte\n"
     "counts.  -o, --noheadings, --raw, -n and -e print a one-row table\n"
     "as 'mmf list' does.  --json (-J) prints every field, null where one\n"
     "does not apply or could not be read.  --name-hex names the object by\n"
     "its bytes in hex.\n\n"
     "example:\n  mmf info Test --json\n"},
    {"list", cmd_list, OPT_JSON | OPT_BYTES | OPT_RAW | OPT_TABLE, 0, 0,
     "list the maps in /dev/shm",
     "mmf list [--json] [-b] [-o COLS] [--noheadings] [--raw] [-n] [-e]",
     "List every object in /dev/shm you can see: mmf maps, and objects of\n"
     "other programs as raw; one you may not read as unknown, with the\n"
     "reason in STATE.  Transient maps nobody holds any more are listed as\n"
     "orphaned, not removed.  -o (--output) picks the columns, in order\n"
     "(+COLS adds to the default ones); --noheadings leaves out the\n"
     "heading; --raw separates columns by one space; -e (--export) prints\n"
     "NAME=\"value\" pairs; -n (--newline) each of them on a line;\n"
     "-b (--bytes) exact byte counts; --json (-J) every field as JSON.\n\n"
     "examples:\n  mmf list -o name,holders,state\n"
     "  mmf list --json | jq '.[].name'\n"},
    {"cat", cmd_cat, OPT_OFFSET | OPT_LENGTH, 1, 1,
     "print a file (or a range of it) through a mapping",
     "mmf cat FILE [--offset N] [--length N]",
     "Map FILE read-only and write its bytes, or LENGTH bytes from OFFSET,\n"
     "to standard output.\n\nexample:\n  mmf cat big.bin --offset 4096 "
     "--length 16\n"},
    {"help", cmd_help, 0, 0, 1, "show help for mmf or a command",
     "mmf help [COMMAND]",
     "List the commands, or show one command's help.\n\nexample:\n  mmf help "
     "write\n"},
    {0}};
