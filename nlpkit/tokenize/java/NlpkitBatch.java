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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
    private static ExecutorService pool;
    private static int poolSize;
    private static final ThreadLocal<MorphemeAnalyzer> KKMA = ThreadLocal.withInitial(() -> {
        silence();
        return new MorphemeAnalyzer();
    });

    private NlpkitBatch() {}

    private static synchronized ExecutorService pool(int n) {
        if (pool == null || poolSize != n) {
            if (pool != null) pool.shutdown();
            pool = Executors.newFixedThreadPool(n, r -> { Thread t = new Thread(r, "nlpkit-tagger"); t.setDaemon(true); return t; });
            poolSize = n;
        }
        return pool;
    }

    private static void silence() {
        // Kkma prints progress to System.out; KoNLPy swaps System.out on every call, we do it once.
        System.setOut(new PrintStream(new OutputStream() { public void write(int b) {} }));
    }

    /** Run fn over contiguous slices of sents on `threads` threads; join outputs in input order. */
    private static String run(String[] sents, int threads, BiConsumer<String, StringBuilder> fn) throws Exception {
        int n = sents.length;
        int k = Math.max(1, Math.min(threads, n));
        StringBuilder[] parts = new StringBuilder[k];
        if (k == 1) {
            parts[0] = slice(sents, 0, n, fn);
        } else {
            List<Future<StringBuilder>> futures = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                final int lo = (int) ((long) n * i / k), hi = (int) ((long) n * (i + 1) / k);
                futures.add(pool(threads).submit(() -> slice(sents, lo, hi, fn)));
            }
            for (int i = 0; i < k; i++) parts[i] = futures.get(i).get();
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < k; i++) {
            if (i > 0) out.append(SENT);
            out.append(parts[i]);
        }
        return out.toString();
    }

    private static StringBuilder slice(String[] sents, int lo, int hi, BiConsumer<String, StringBuilder> fn) {
        StringBuilder sb = new StringBuilder();
        for (int i = lo; i < hi; i++) {
            if (i > lo) sb.append(SENT);
            int mark = sb.length();
            try {
                fn.accept(sents[i], sb);
            } catch (Throwable e) {
                sb.setLength(mark);
                sb.append(ERR).append(String.valueOf(e).replace(SENT, ' '));
                KKMA.remove();  // a Kkma analyser that threw may hold partial state: this thread makes a new one
            }
        }
        return sb;
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
    public static String komoran(Komoran komoran, String[] sents, int threads) throws Exception {
        return run(sents, threads, (s, sb) -> {
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
    private static final ConcurrentHashMap<String, List<KoreanToken>> OKT_MEMO = new ConcurrentHashMap<>();
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
    private static final ConcurrentHashMap<String, String> NORM_MEMO = new ConcurrentHashMap<>();

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
    public static String okt(String[] sents, boolean norm, boolean stem, int threads, boolean memo) throws Exception {
        return run(sents, threads, (s, sb) -> {
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
    public static String kkma(String[] sents, int threads) throws Exception {
        return run(sents, threads, (s, sb) -> {
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
    public static synchronized void hannanumReset() {
        for (int i = 0; i < HANNANUM.length; i++) {
            if (HANNANUM[i] != null) {
                try { HANNANUM[i].close(); } catch (Throwable ignored) { }
                HANNANUM[i] = null;
            }
        }
    }

    /** JHannanum's raw simplePos09/22 output per sentence (KoNLPy parses it), or ERR + the exception. */
    public static synchronized String hannanum(String[] sents, int ntags) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < sents.length; k++) {
            if (k > 0) sb.append(SENT);
            try {
                Workflow wf = hannanumWorkflow(ntags);
                wf.analyze(sents[k]);
                String r = wf.getResultOfDocument();
                appendSafe(sb, r == null ? "" : r);
            } catch (Throwable e) {
                hannanumReset();
                sb.append(ERR).append(String.valueOf(e).replace(SENT, ' '));
            }
        }
        return sb.toString();
    }
}
