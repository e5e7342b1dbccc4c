// nlpkit's batch helper for the KoNLPy taggers: one Python->Java crossing per batch instead of one
// per sentence and token, and a small thread pool on the Java side (JPype releases the GIL there).
// Compiled on first use by nlpkit.tokenize.java_helper (javac), against KoNLPy's jars.
//
// Output of every method: one String; sentences separated by \u001d; inside a sentence every token
// is three fields (form, tag, lemma or empty) and all fields are separated by \u001f, so Python
// splits each sentence once. A sentence that throws yields "\u0015" + the exception text; the
// engine state it may have left behind is dropped (see hannanum and kkma below).
package nlpkit;

import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import kr.ac.kaist.swrc.jhannanum.hannanum.Workflow;
import kr.co.shineware.nlp.komoran.core.Komoran;
import kr.lucypark.jhannanum.hannanum.WorkflowFactory;
import kr.co.shineware.nlp.komoran.model.Token;
import org.openkoreantext.processor.OpenKoreanTextProcessorJava;
import org.openkoreantext.processor.stemmer.KoreanStemmer$;
import org.openkoreantext.processor.tokenizer.KoreanChunker$;
import org.openkoreantext.processor.tokenizer.KoreanTokenizer$;
import org.openkoreantext.processor.tokenizer.KoreanTokenizer.KoreanToken;
import org.openkoreantext.processor.tokenizer.TokenizerProfile;
import org.openkoreantext.processor.util.KoreanPos$;
import org.snu.ids.ha.ma.Eojeol;
import org.snu.ids.ha.ma.MExpression;
import org.snu.ids.ha.ma.Morpheme;
import org.snu.ids.ha.ma.MorphemeAnalyzer;
import org.snu.ids.ha.ma.Sentence;
import scala.collection.Iterator;
import scala.collection.Seq;
import scala.collection.mutable.ArrayBuffer;

public final class NlpkitBatch {
    static final char SENT = '\u001d', FIELD = '\u001f', ERR = '\u0015';
    private static final ThreadLocal<MorphemeAnalyzer> KKMA = ThreadLocal.withInitial(() -> {
        silence();
        return new MorphemeAnalyzer();
    });

    private NlpkitBatch() {}

    private static void silence() {
        // Kkma prints progress to System.out; KoNLPy swaps System.out on every call, we do it once.
        System.setOut(new PrintStream(new OutputStream() { public void write(int b) {} }));
    }

    /** What a sentence stopped over its time limit yields after ERR (Python reads it as reason "timeout"). */
    static final String TIMEOUT = "timeout: ";

    /** Run after a call stopped a lane (on the calling thread): drop engine state the kill may have left. */
    private static void afterKill() {
        OKT_MEMO = new ConcurrentHashMap<>();  // a put cut in half leaves the map in an unknown state
        NORM_MEMO = new ConcurrentHashMap<>();
        resetWorkflows();
    }

    /**
     * One thread tagging sents[from..hi) in order into its own result array. A lane that runs a
     * sentence past the limit is stopped (Thread.stop: the taggers never check for interruption)
     * and abandoned: its thread and array are never used again, so a late ThreadDeath or a late
     * write reaches nothing the caller still reads. Kkma analysers are per thread (ThreadLocal),
     * so a stopped analyser is never reused either.
     */
    private static final class Lane implements Runnable {
        final String[] sents;
        final String[] res;
        final int hi;
        final BiConsumer<String, StringBuilder> fn;
        final Thread thread;
        volatile int cur;
        volatile long started;     // wall clock (nanoTime) when sentence `cur` started
        volatile long startedCpu;  // this thread's CPU time then (-1 until the thread runs)

        Lane(String[] sents, int from, int hi, BiConsumer<String, StringBuilder> fn) {
            this.sents = sents;
            this.res = new String[sents.length];
            this.hi = hi;
            this.fn = fn;
            this.cur = from;
            this.started = System.nanoTime();
            this.startedCpu = -1;
            this.thread = new Thread(this, "nlpkit-tagger");
            this.thread.setDaemon(true);
        }

        public void run() {
            for (int i = cur; i < hi; i++) {
                started = System.nanoTime();
                startedCpu = CPU.getCurrentThreadCpuTime();
                cur = i;
                StringBuilder sb = new StringBuilder();
                try {
                    fn.accept(sents[i], sb);
                    res[i] = sb.toString();
                } catch (ThreadDeath d) {
                    throw d;
                } catch (Throwable e) {
                    res[i] = ERR + String.valueOf(e).replace(SENT, ' ');
                    KKMA.remove();  // a Kkma analyser that threw may hold partial state: this thread makes a new one
                }
            }
            cur = hi;
        }
    }

    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    /** Heap use (after the last collection) from which the longest-running limited sentence is stopped. */
    static final double HEAP_PRESSURE = 0.85;

    /** Whether the heap is nearly full even after garbage collection (Kkma's explosions grow it until OOM). */
    private static boolean heapPressure() {
        long max = Runtime.getRuntime().maxMemory();
        for (java.lang.management.MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            java.lang.management.MemoryUsage after = pool.getCollectionUsage();
            if (pool.getType() == java.lang.management.MemoryType.HEAP && after != null
                    && pool.getName().contains("Old") && after.getUsed() > HEAP_PRESSURE * max) return true;
        }
        return false;
    }

    /** A sentence also stops after this many times its CPU limit in wall time (a thread that gets no CPU). */
    static final long WALL_FACTOR = 20;

    /** CPU nanoseconds the lane spent on its current sentence (0 when unknown). */
    private static long cpuOnSentence(Lane lane) {
        long start = lane.startedCpu;
        if (start < 0) return 0;
        long now = CPU.getThreadCpuTime(lane.thread.getId());
        return now < 0 ? 0 : Math.max(0, now - start);
    }

    /**
     * Run fn over contiguous slices of sents on `threads` threads; join outputs in input order.
     * limitMs > 0: a sentence whose thread has used that much CPU (or WALL_FACTOR times that in wall
     * time) is stopped and yields ERR + TIMEOUT, the others of its slice go on on a new thread; CPU,
     * not wall time, so a busy machine does not turn ordinary sentences into timeouts. budgetMs > 0:
     * when the whole call has run that long (wall), every sentence not yet done yields ERR + TIMEOUT.
     * Both 0: no limit (first, warming calls).
     */
    @SuppressWarnings({"removal", "deprecation"})
    private static String run(String[] sents, int threads, long limitMs, long budgetMs,
                              BiConsumer<String, StringBuilder> fn) throws Exception {
        int n = sents.length;
        int k = Math.max(1, Math.min(threads, n));
        String[] out = new String[n];
        long t0 = System.nanoTime();
        long limit = limitMs > 0 ? limitMs * 1_000_000L : Long.MAX_VALUE;
        long deadline = budgetMs > 0 ? t0 + budgetMs * 1_000_000L : Long.MAX_VALUE;
        Lane[] lanes = new Lane[k];
        int[] los = new int[k];
        for (int i = 0; i < k; i++) {
            los[i] = (int) ((long) n * i / k);
            lanes[i] = new Lane(sents, los[i], (int) ((long) n * (i + 1) / k), fn);
            lanes[i].thread.start();
        }
        boolean killed = false;
        while (true) {
            boolean alive = false;
            // under heap pressure, the limited sentence that has used the most CPU is stopped first
            int heavy = -1;
            if (limit != Long.MAX_VALUE && heapPressure()) {
                long most = 50_000_000L;  // a sentence under 50 ms of CPU is not the cause
                for (int i = 0; i < k; i++) {
                    if (lanes[i] != null && lanes[i].thread.isAlive()) {
                        long used = cpuOnSentence(lanes[i]);
                        if (used > most) { most = used; heavy = i; }
                    }
                }
            }
            for (int i = 0; i < k; i++) {
                Lane lane = lanes[i];
                if (lane == null) continue;
                if (!lane.thread.isAlive()) {
                    collect(lane, los[i], out);
                    lanes[i] = null;
                    continue;
                }
                alive = true;
                long now = System.nanoTime();
                int cur = lane.cur;
                boolean late = now > deadline;
                boolean heavyNow = i == heavy;
                boolean over = heavyNow || (limit != Long.MAX_VALUE
                        && (cpuOnSentence(lane) > limit || (now - lane.started) / WALL_FACTOR > limit));
                if (!late && !over) continue;
                lane.thread.stop();
                lane.thread.join(5000);
                killed = true;
                collect(lane, los[i], out);
                int first = los[i];
                while (first < lane.hi && out[first] != null) first++;
                String why = late ? "the call's budget of " + budgetMs + " ms ran out"
                        : heavyNow ? "the JVM heap is nearly full (over " + (int) (HEAP_PRESSURE * 100) + "% after GC)"
                        : "over the limit of " + limitMs + " ms of CPU per sentence";
                // the lane may have finished `cur` just before the stop: then `first` is a sentence that
                // only started, and it runs again on the next lane
                if (first < lane.hi && (late || first == cur)) out[first++] = ERR + TIMEOUT + why;
                lanes[i] = null;
                if (late) {
                    for (int j = first; j < lane.hi; j++) if (out[j] == null) out[j] = ERR + TIMEOUT + why;
                } else if (first < lane.hi) {
                    los[i] = first;
                    lanes[i] = new Lane(sents, first, lane.hi, fn);
                    lanes[i].thread.start();
                }
            }
            if (!alive) break;
            for (Lane lane : lanes) {
                if (lane != null && lane.thread.isAlive()) { lane.thread.join(2); break; }
            }
        }
        if (killed) afterKill();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) sb.append(SENT);
            sb.append(out[i] == null ? ERR + "no result" : out[i]);
        }
        return sb.toString();
    }

    private static void collect(Lane lane, int lo, String[] out) {
        for (int j = lo; j < lane.hi; j++) if (out[j] == null && lane.res[j] != null) out[j] = lane.res[j];
    }

    private static void tok(StringBuilder sb, boolean first, String form, String tag, String lemma) {
        if (!first) sb.append(FIELD);
        appendSafe(sb, form);
        sb.append(FIELD).append(tag).append(FIELD);
        if (lemma != null) appendSafe(sb, lemma);
    }

    /** Append s with unpaired surrogates (taggers split emoji pairs) replaced by U+FFFD. */
    static void appendSafe(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                sb.append('\uFFFD');
            } else {
                sb.append(c);
            }
        }
    }

    /** Komoran.analyze per sentence (the analyser keeps no per-call state: one instance is shared). */
    public static String komoran(Komoran komoran, String[] sents, int threads, long limitMs, long budgetMs)
            throws Exception {
        return run(sents, threads, limitMs, budgetMs, (s, sb) -> {
            boolean first = true;
            for (Token t : komoran.analyze(s).getTokenList()) {
                tok(sb, first, t.getMorph(), t.getPos(), null);
                first = false;
            }
        });
    }

    // Okt parses every Korean chunk (a run of Hangul between spaces/punctuation) on its own, and
    // that parse is the expensive part. Words repeat across sentences, so the parse of each chunk
    // text is memoized; the stemmer still runs over the whole sentence as in KoreanTokenizer.tokenize.
    private static volatile ConcurrentHashMap<String, List<KoreanToken>> OKT_MEMO = new ConcurrentHashMap<>();
    private static final int OKT_MEMO_MAX = 100_000;  // entries per memo; cleared when full

    /** Forget memoized chunk parses (after nouns were added to Okt's dictionary). */
    public static void oktClearMemo() { OKT_MEMO.clear(); NORM_MEMO.clear(); }

    public static int oktMemoSize() { return OKT_MEMO.size(); }

    private static List<KoreanToken> parseChunk(String chunk, TokenizerProfile profile) {
        List<KoreanToken> hit = OKT_MEMO.get(chunk);
        if (hit != null) return hit;
        List<KoreanToken> out = new ArrayList<>();
        // tokenizeTopN(text, 1) = per chunk, the list of best parses; take the head of each (as tokenize does)
        Iterator<Seq<Seq<KoreanToken>>> perChunk = KoreanTokenizer$.MODULE$.tokenizeTopN(chunk, 1, profile).iterator();
        while (perChunk.hasNext()) {
            Iterator<KoreanToken> toks = perChunk.next().head().iterator();
            while (toks.hasNext()) out.add(toks.next());
        }
        if (OKT_MEMO.size() >= OKT_MEMO_MAX) OKT_MEMO.clear();
        OKT_MEMO.put(chunk, out);
        return out;
    }

    /** Same tokens as OpenKoreanTextProcessorJava.tokenize(text), with per-chunk parses memoized. */
    static Seq<KoreanToken> oktTokenize(CharSequence text) {
        TokenizerProfile profile = KoreanTokenizer$.MODULE$.tokenize$default$2();
        ArrayBuffer<KoreanToken> all = new ArrayBuffer<>();
        Iterator<KoreanToken> chunks = KoreanChunker$.MODULE$.chunk(text).iterator();
        while (chunks.hasNext()) {
            KoreanToken c = chunks.next();
            if (c.pos() == KoreanPos$.MODULE$.Korean()) {
                for (KoreanToken t : parseChunk(c.text(), profile)) all.$plus$eq(t);
            } else {
                all.$plus$eq(c);
            }
        }
        return KoreanStemmer$.MODULE$.stem(all);
    }

    // KoreanNormalizer.normalize(text) rewrites each maximal Hangul run on its own
    // (EXTENTED_KOREAN_REGEX.replaceAllIn(text, m => normalizeKoreanChunk(m))): memoize per run.
    private static final Pattern HANGUL_RUN = Pattern.compile("[ㄱ-ㅣ가-힣]+");
    private static volatile ConcurrentHashMap<String, String> NORM_MEMO = new ConcurrentHashMap<>();

    /** Same text as OpenKoreanTextProcessorJava.normalize(s), with each Hangul run's result memoized. */
    static CharSequence oktNormalize(String s) {
        Matcher m = HANGUL_RUN.matcher(s);
        StringBuilder sb = new StringBuilder(s.length() + 8);
        int last = 0;
        while (m.find()) {
            sb.append(s, last, m.start());
            String run = m.group();
            String norm = NORM_MEMO.get(run);
            if (norm == null) {
                norm = OpenKoreanTextProcessorJava.normalize(run).toString();
                if (NORM_MEMO.size() >= OKT_MEMO_MAX) NORM_MEMO.clear();
                NORM_MEMO.put(run, norm);
            }
            sb.append(norm);
            last = m.end();
        }
        sb.append(s, last, s.length());
        return sb.toString();
    }

    /** Okt as KoNLPy's OktInterface.tokenize, with the stem as a third field. */
    public static String okt(String[] sents, boolean norm, boolean stem, int threads, boolean memo, long limitMs,
                             long budgetMs) throws Exception {
        return run(sents, threads, limitMs, budgetMs, (s, sb) -> {
            CharSequence text = norm ? (memo ? oktNormalize(s) : OpenKoreanTextProcessorJava.normalize(s)) : s;
            Seq<KoreanToken> tokens = memo ? oktTokenize(text) : OpenKoreanTextProcessorJava.tokenize(text);
            Iterator<KoreanToken> it = tokens.iterator();
            boolean first = true;
            while (it.hasNext()) {
                KoreanToken t = it.next();
                String pos = t.pos().toString();
                if (pos.equals("Space")) continue;
                tok(sb, first, t.text(), pos, stem && t.stem().nonEmpty() ? t.stem().get() : null);
                first = false;
            }
        });
    }

    /** Kkma as KoNLPy's KkmaInterface.morphAnalyzer, with one MorphemeAnalyzer per thread. */
    public static String kkma(String[] sents, int threads, long limitMs, long budgetMs) throws Exception {
        return run(sents, threads, limitMs, budgetMs, (s, sb) -> {
            MorphemeAnalyzer ma = KKMA.get();
            List<Sentence> result;
            try {
                List<MExpression> ret = ma.analyze(s);
                ret = ma.postProcess(ret);
                ret = ma.leaveJustBest(ret);
                result = ma.divideToSentences(ret);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
            boolean first = true;
            for (Sentence sentence : result) {
                for (Eojeol eojeol : sentence) {
                    for (int k = 0; k < eojeol.size(); k++) {
                        Morpheme m = eojeol.get(k);
                        tok(sb, first, m.getString(), m.getTag(), null);
                        first = false;
                    }
                }
            }
        });
    }

    // JHannanum's Workflow passes sentences through LinkedBlockingQueues. An exception inside
    // analyze() (ArrayIndexOutOfBoundsException on long runs without spaces) leaves the rest of
    // that document in the queues, and every later getResultOfDocument() returns the previous
    // document's result: KoNLPy's HannanumInterface prints the exception, returns null and keeps
    // the broken workflow. Here a workflow that threw is dropped and a fresh one is built on the
    // next call, so no state survives an error. One workflow per tag set; callers serialize.
    private static final Workflow[] HANNANUM = new Workflow[2];

    private static Workflow hannanumWorkflow(int ntags) throws Exception {
        int i = ntags == 9 ? 0 : 1;
        if (HANNANUM[i] == null) {
            Workflow wf = WorkflowFactory.getPredefinedWorkflow(
                ntags == 9 ? WorkflowFactory.WORKFLOW_HMM_POS_TAGGER_09 : WorkflowFactory.WORKFLOW_HMM_POS_TAGGER_22);
            wf.activateWorkflow(false);
            HANNANUM[i] = wf;
        }
        return HANNANUM[i];
    }

    /** Drop both Hannanum workflows (the next call builds fresh ones). */
    public static synchronized void hannanumReset() { resetWorkflows(); }

    private static void resetWorkflows() {
        for (int i = 0; i < HANNANUM.length; i++) {
            Workflow wf = HANNANUM[i];
            HANNANUM[i] = null;
            if (wf != null) {
                try { wf.close(); } catch (Throwable ignored) { }
            }
        }
    }

    /**
     * JHannanum's raw simplePos09/22 output per sentence (KoNLPy parses it), or ERR + the exception;
     * one sentence at a time (callers serialize too), under the same limits as the other taggers.
     */
    public static synchronized String hannanum(String[] sents, int ntags, long limitMs, long budgetMs) throws Exception {
        return run(sents, 1, limitMs, budgetMs, (s, sb) -> {
            try {
                Workflow wf = hannanumWorkflow(ntags);
                wf.analyze(s);
                String r = wf.getResultOfDocument();
                appendSafe(sb, r == null ? "" : r);
            } catch (ThreadDeath d) {
                throw d;
            } catch (Throwable e) {
                resetWorkflows();
                throw new RuntimeException(e);
            }
        });
    }
}
