/* SPDX-License-Identifier: MIT */
/*
 * Format 3's words on top of publication (FORMAT.md, "Append chains", "An
 * append or write_at copies only what changed", "Following"), as a Promela
 * model for spin: whole writes, appends and write_at's with the writers'
 * reuse of the unpublished slot (only the last delta and the grown part are
 * copied), aborts, a writer killed at any step and started again, a peer
 * that never writes chain/delta/tag, and a reader that reads the content
 * whole, then follows it with read_since. publish.pml checks the
 * publication core itself (gen/seq/state, locked reads, the fences); this
 * model takes that core as given and checks what rests on it.
 * tests/spin.sh runs, each exhaustive:
 *   spin -a reuse.pml; cc -O2 -DSAFETY -DNOCLAIM -o pan pan.c; ./pan
 *     every assertion, and no invalid end state;
 *   spin -DNW=1 -a reuse.pml; cc -O2 -o pan pan.c; ./pan -a
 *     claim `term`: the reader gets both copies on every run (on one
 *     write after content 1's: the default instance takes minutes);
 *   the safety run with -DFOREIGN: writer 2 is a peer that publishes whole
 *     and correct contents but never updates chain, delta_lo/hi or tag (a
 *     buggy or older build: format 3 builds refuse format 2 maps, so this
 *     is the only mix a map can see); its stale words must never count;
 *   -DFOREIGN -DBUG_SEQTAG: validity tied to the slot's seq, as format 2's
 *     chain_seq was (tag stores the seq, counts when tag == seq); spin must
 *     find that an appender killed after closing its slot and the peer's
 *     write of the same seq into it make a tail or a reuse wrong;
 *   -DBUG_NOVOID: opening a slot does not void its seq; spin must find an
 *     aborted write's bytes taken for a content (by a reader, as version
 *     1's bug in publish.pml, or by a writer's reuse).
 * (tests/spin.sh compiles pan with -DCOLLAPSE: the runs store up to ~25
 * million states.)
 *
 * What is checked:
 *  (a) an accepted copy (plain read or read_since) is exactly a published
 *      content: the one published with the seq the reader reports, byte
 *      for byte and in length (ghost arrays plen/pdata by seq);
 *  (b) read_since returns a tail only when the current content extends the
 *      one the reader saw: the bytes kept from its first copy and the tail
 *      together must be exactly the current content (else it must say
 *      whole, and copy it whole);
 *  (c) a writer's slot holds exactly the content it means to publish when
 *      it closes it, whatever it reused (asserted before the close);
 *  (d) "corrupt" is never concluded, by a reader or a writer: no peer
 *      scribbles here;
 *  (e) after TRIES failed tries the reader reads under the lock, and that
 *      cannot fail: both its reads complete (claim `term`).
 *
 * Processes: a first writer makes content 1 alone (any write; it may
 * abort), so that the reuse is possible from the next write on. Then writer
 * 1 (format 3) may be killed once, at any step; it goes on as a new handle
 * (id 4), which takes the dead one's lock over, so a killed writer's
 * leftovers meet the later writes. Writer 2 is format 3, or the peer
 * (-DFOREIGN: whole writes and appends, copying the whole content); it is
 * not killed. NW writes after content 1's, done or aborted (the killed one
 * does not count). Each picks a write (PICK) and may abort before its
 * cells or after them: an aborted or killed write's slot has seq INVALID
 * or an odd gen, so which of its cells it stored changes nothing later
 * (no reader accepts that slot, no writer reuses it: the model checks
 * both), and the cells are one step. A compact map's release of the old
 * slot opens it, zeroes it and closes it with seq INVALID: to every other
 * process that is a write that aborts. Content bytes are the id of the
 * write that stored them, 0 for write_at's gap, FIRST for content 0's one
 * byte and GARBAGE for slot 1's bytes before any write.
 *
 * Memory order. Spin runs every step sequentially consistent; each step
 * stands for C11 orderings that give it. publish.pml checks the core
 * (the split of W2's stores, readers preempted between any two loads, the
 * fences that keep a race from looking like corruption); here loads that
 * the core proves to be one snapshot are one step:
 *  W0, W1 (one step) take wlock (lock.c: acquire; a dead holder's stores
 *     are ordered before the take-over by the kernel's report of its
 *     death); state acquire; slot s's gen, seq, len and the current slot's
 *     len, gen, tag, chain, delta: relaxed, stable under the lock (only the
 *     holder stores them); the reuse decision.
 *  W2 open s: gen odd, seq INVALID, release fence (publish.pml W2).
 *  W3 the cells: with the reuse, the current slot's [delta_lo, min(
 *     delta_hi, L)) and [min(len[s], L), L), else all of [0, L); then the
 *     writer's own bytes (memcpy, under the lock).
 *  W4a (c) asserted; len, seq, chain, delta_lo, delta_hi, tag: relaxed
 *     stores, one step (while gen is odd nobody counts them); then gen
 *     even (release); then state (release); then the lock's release.
 *  W4b abort: gen even (release), seq stays INVALID; the lock's release.
 *  R1 state acquire.
 *  R2, R3, RS (one step) gen acquire, len, seq, tag, chain relaxed, acquire
 *     fence, gen again (publish.pml R2-R4 splits these): a writer that
 *     stores any of them opens the slot (moves gen) first, so what R5 finds
 *     unchanged is one closure's words; the tail decision.
 *  R4 gen odd or seq not state's: state loaded again; unchanged would be
 *     corruption.
 *  R5 the cells from `from` on, acquire fence, gen again (one step: a
 *     writer that changes a cell has moved gen before).
 *  R6 after TRIES failed tries, the lock, and one read under it.
 */

#ifndef NC
#define NC 3 /* cells per slot: contents of 0..NC bytes */
#endif
#ifndef NW
#define NW 2 /* writes after content 1's, done or aborted */
#endif
#define MAXSEQ (NW + 2) /* content 1's, NW, and one killed after publishing */
#ifndef TRIES
#define TRIES 2
#endif
#define INVALID 255 /* a slot seq that no state names */
#define GARBAGE 254 /* slot 1's bytes before any write */
#define FIRST (MAXSEQ + 1) /* content 0's byte */
#define KILLABLE 1
#define REBORN 4 /* writer 1's id after it was killed */

#define WHOLE 0
#define APPEND 1
#define WRITE_AT 2

byte state = 0; /* seq << 1 | slot */
byte gen[2];
byte slen[2];
byte sseq[2];
byte chain[2];
byte dlo[2];
byte dhi[2];
byte tag[2];
byte data[2 * NC]; /* cell i of slot s is data[s * NC + i] */
byte wlock = 0;
bool alive[6];
byte kills = 0;

/* Ghost state: the contents published, by seq. */
byte nwrites = 0; /* writes done or aborted */
byte nids = 0;    /* writes begun: the bytes each stores */
byte npub = 0; /* contents 0 .. npub are published */
byte plen[MAXSEQ + 1];
byte pdata[(MAXSEQ + 1) * NC];
bool rdone = false;

/* The words of slot x count: it was closed with them. */
#ifdef BUG_SEQTAG
#define VALID(x) (tag[x] == sseq[x])
#define TAGOF(g, q) (q)
#else
#define VALID(x) (tag[x] == gen[x])
#define TAGOF(g, q) (g)
#endif

#define LOCKABLE (wlock == 0 || !alive[wlock])

/* What a writer stores in cell i of its slot: its own bytes, write_at's
 * zeros between the old end and off, or a copy of the current content's
 * cell (all of it, or with the reuse only [lo, hi) and [v, L)). */
#define OWN(i) (op == WHOLE && i < n || op != WHOLE && i >= off && i < off + n)
#define GAP(i) (op == WRITE_AT && i >= L && i < off)
#define COPY(i) \
  (op != WHOLE && !OWN(i) && !GAP(i) && i < L && \
   (!reuse || i >= lo && i < hi || i >= v))

/* The writes a writer may do. -DWIDE: every length and offset that fits;
 * by default a few that between them cover each case of the delta and the
 * reuse: a whole write that empties the content or makes it 2 bytes (so
 * that shrinking and growing both happen), an append of one byte, and
 * write_at's inside the content, across its end, at its end and past it
 * (zeros between). */
inline PICK() {
#ifdef WIDE
  if
  :: op = WHOLE; select(n : 0 .. NC)
  :: L < NC -> op = APPEND; off = L; select(n : 1 .. NC - L)
  :: !foreign -> op = WRITE_AT; select(off : 0 .. NC - 1);
     select(n : 1 .. NC - off)
  fi
#else
  if
  :: op = WHOLE; n = 0
  :: op = WHOLE; n = 2
  :: L < NC -> op = APPEND; off = L; n = 1
  :: !foreign -> op = WRITE_AT; off = 0; n = 1
  :: !foreign -> op = WRITE_AT; off = 1; n = 1
  :: !foreign -> op = WRITE_AT; off = 2; n = 1
  :: !foreign -> op = WRITE_AT; off = 1; n = 2
  fi
#endif
}

/* A writer's locals back to their first values between writes, so that
 * states that differ only in what a finished write left are one. */
inline RESET() {
  op = 0; n = 0; off = 0; id = 0; k = 0; cur = 0; s = 0; odd = 0; L = 0;
  wl = 0; lo = 0; hi = 0; nlo = 0; nhi = 0; ch = 0; v = 0; reuse = false;
  i = 0;
  do
  :: i < NC -> want[i] = 0; i++
  :: else -> break
  od;
  i = 0
}

/* Writer 1's death instead of its next step (once); it goes on as a new
 * handle. */
#define KILL \
  atomic { killable && kills == 0 -> \
    alive[me] = false; kills++; nwrites--; me = REBORN; RESET(); goto again }

/* One step of a writer, or its death instead. */
#define STEP(x) \
  if \
  :: x \
  :: KILL \
  fi

/* The same, where the writer may also abort instead (close s unpublished). */
#define STEPA(x) \
  if \
  :: x \
  :: atomic { gen[s] = odd + 1; goto aborted } \
  :: KILL \
  fi

proctype writer(byte me; bool killable; bool foreign; byte limit)
{
  byte op, n, off, id, k, cur, s, odd, L, wl, lo, hi, nlo, nhi, ch, i, v;
  bool reuse;
  byte want[NC];

again:
  do
  :: /* W0, W1: the lock; what to write; whether s holds content k-1. */
     atomic {
       LOCKABLE && nwrites < limit ->
       wlock = me; nwrites++; nids++; id = nids;
       cur = state & 1; s = 1 - cur; k = state >> 1; L = slen[cur];
       assert(L <= NC);                 /* (d): no ECORRUPT on old_len */
       PICK();
       /* The content meant (from the ghost), its length and delta. */
       i = 0;
       do
       :: i < NC ->
          if
          :: OWN(i) -> want[i] = id
          :: !OWN(i) && op != WHOLE && i < L -> want[i] = pdata[k * NC + i]
          :: else -> want[i] = 0      /* write_at's gap, or past the end */
          fi;
          i++
       :: else -> break
       od;
       i = 0;
       if
       :: op == WHOLE -> wl = n; nlo = 0; nhi = n; ch = k + 1
       :: op == APPEND -> wl = L + n; nlo = L; nhi = L + n;
          /* the chain goes on from the current content's, if it counts */
          ch = ((VALID(cur) && chain[cur] <= k) -> chain[cur] : k)
       :: op == WRITE_AT -> wl = (off + n > L -> off + n : L);
          nlo = (off < L -> off : L); nhi = off + n; ch = k + 1
       fi;
       /* The reuse: under the lock, s closed with seq k-1 holds content
        * k-1 whole, and content k differs from it in [lo, hi) only. */
       reuse = (!foreign && op != WHOLE && k >= 1 && (gen[s] & 1) == 0 &&
                sseq[s] == k - 1 && VALID(cur) && dlo[cur] <= dhi[cur] &&
                dhi[cur] <= NC);
       if
       :: reuse -> lo = dlo[cur]; hi = (dhi[cur] < L -> dhi[cur] : L);
          /* the grown part [min(len[s], L), L) is copied too */
          v = (slen[s] < L -> slen[s] : L)
       :: else
       fi
     };
     /* W2: open s. */
#ifdef BUG_NOVOID
     STEP(atomic { odd = gen[s] + 1 + (gen[s] & 1); gen[s] = odd });
#else
     STEP(atomic { odd = gen[s] + 1 + (gen[s] & 1); gen[s] = odd;
                   sseq[s] = INVALID });
#endif
     /* W3: the cells, in one step (see above), or an abort before them. */
     STEPA(d_step {
       do
       :: i < NC && OWN(i) -> data[s * NC + i] = id; i++
       :: i < NC && GAP(i) -> data[s * NC + i] = 0; i++
       :: i < NC && COPY(i) -> data[s * NC + i] = data[cur * NC + i]; i++
       :: i < NC && !(OWN(i) || GAP(i) || COPY(i)) -> i++
       :: else -> break
       od;
       i = 0
     });
     /* W4a: (c) what the slot holds is exactly the content meant; close
      * (or abort after the cells instead). */
     STEPA(d_step {
       do
       :: i < wl -> assert(data[s * NC + i] == want[i]); i++
       :: else -> break
       od;
       i = 0;
       slen[s] = wl; sseq[s] = k + 1;
       if
       :: !foreign -> chain[s] = ch; dlo[s] = nlo; dhi[s] = nhi;
          tag[s] = TAGOF(odd + 1, k + 1)
       :: else
       fi
     });
     STEP(gen[s] = odd + 1);
     STEP(d_step {
       state = (k + 1) << 1 | s;
       npub = k + 1;
       plen[npub] = wl;
       do
       :: i < NC -> pdata[npub * NC + i] = (i < wl -> want[i] : 0); i++
       :: else -> break
       od;
       i = 0
     });
     STEP(atomic { wlock = 0; RESET(); goto again });
aborted: /* W4b: gen even (done), seq INVALID */
     STEP(atomic { wlock = 0; RESET(); goto again })
  :: nwrites >= limit -> break
  od;
  /* Stays here (a valid end), so that init can tell it is done. */
end_done:
  false
}

/* Reads the content whole (phase 0), then read_since of it (phase 1). After
 * TRIES failed tries of a phase, reads under the writers' lock. */
proctype reader(byte me)
{
  byte st, s, want, g, l, q, i, tg, ch, from, tries, phase, seq0, len0;
  byte cp[NC];
  byte seen[NC]; /* the first copy: read_since's caller keeps it */
  bool locked = false;

again:
  /* R1 */
  atomic { st = state; s = st & 1; want = st >> 1 };
  /* R2, R3, RS: the slot's words, and whether a tail will do. */
  atomic {
    g = gen[s]; l = slen[s]; q = sseq[s]; tg = tag[s]; ch = chain[s];
    if
    :: (g & 1) || q != want -> g = 0; l = 0; q = 0; tg = 0; ch = 0;
       goto inconsistent
    :: else
    fi;
    assert(l <= NC); /* (d): a published len is never impossible */
    from = ((phase == 1 && tg == TAGOF(g, q) && ch <= q && ch <= seq0 &&
             seq0 <= q && len0 <= l) -> len0 : 0);
    tg = 0; ch = 0
  };
  /* R5: the cells from `from` on, then gen again. */
  atomic {
    i = from;
    do
    :: i < l -> cp[i] = data[s * NC + i]; i++
    :: else -> break
    od;
    if
    :: gen[s] != g -> /* overtaken */
       assert(!locked);
       i = 0;
       do
       :: i < NC -> cp[i] = 0; i++
       :: else -> break
       od;
       i = 0; g = 0; l = 0; q = 0; from = 0;
       goto retry
    :: else
    fi;
    /* (a), (b): exactly content q, the kept bytes and the tail together. */
    assert(q <= npub && l == plen[q]);
    i = 0;
    do
    :: i < from -> assert(seen[i] == pdata[q * NC + i]); i++
    :: i >= from && i < l -> assert(cp[i] == pdata[q * NC + i]); i++
    :: else -> break
    od;
    if
    :: locked -> wlock = 0; locked = false
    :: else
    fi;
    if
    :: phase == 0 ->
       phase = 1; seq0 = q; len0 = l; tries = 0;
       i = 0;
       do
       :: i < NC -> seen[i] = (i < l -> cp[i] : 0); cp[i] = 0; i++
       :: else -> break
       od;
       i = 0; st = 0; s = 0; want = 0; g = 0; l = 0; q = 0; from = 0;
       goto again
    :: else -> rdone = true; goto out
    fi
  };

inconsistent:
  /* R4: unchanged state is corruption, which no honest peer causes. */
  atomic { assert(!locked); assert(state != st) };
retry:
  if
  :: tries + 1 < TRIES -> atomic { st = 0; s = 0; want = 0; tries++; goto again }
  :: else ->
     st = 0; s = 0; want = 0;
     /* R6: wait for the lock like a writer, or take a dead holder's. */
     atomic { LOCKABLE -> wlock = me; locked = true };
     goto again
  fi;
out:
  skip
}

init {
  byte i;
  atomic {
    /* Content 0 is one byte, written whole into slot 0 (tag valid, delta
     * [0, 1)); slot 1 never held a content: seq INVALID, its bytes and len
     * anything, and its other words zero, as a new map's (tag == gen). */
    slen[0] = 1; dhi[0] = 1; data[0] = FIRST;
    plen[0] = 1; pdata[0] = FIRST;
    sseq[1] = INVALID;
    do
    :: i < NC -> data[NC + i] = GARBAGE; i++
    :: else -> break
    od;
    slen[1] = NC;
    alive[1] = true; alive[2] = true; alive[3] = true; alive[4] = true;
    alive[5] = true;
    /* Content 1: one write of any kind, alone (it may abort). */
    run writer(5, false, false, 1)
  };
  writer[1]@end_done; /* no step of it is left to interleave */
  atomic {
    run writer(1, true, false, NW + 1);
#ifdef FOREIGN
    run writer(2, false, true, NW + 1);
#else
    run writer(2, false, false, NW + 1);
#endif
#ifndef NOREADER
    run reader(3)
#endif
  }
}

/* (e): the reader gets both copies on every run. */
ltl term { <> rdone }
