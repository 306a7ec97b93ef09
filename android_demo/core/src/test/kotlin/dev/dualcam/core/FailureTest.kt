package dev.dualcam.core

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import java.lang.reflect.InvocationTargetException

/** What the app's status line and the benchmark's error lines say when something fails. */
class FailureTest {
    /** As onnxruntime's Java binding words a failed session (ai.onnxruntime.OrtException, not on this classpath). */
    private class OrtException(message: String) : Exception(message)

    @Test
    fun reflectionNoLongerHidesTheError() {
        val ort = OrtException("Error code - ORT_FAIL - message: model has no supported nodes")
        val hidden = InvocationTargetException(ProviderError(Provider.NNAPI, ort))
        assertEquals(null, hidden.message)  // what the app showed before: "failed: null"
        assertEquals("NNAPI could not run the model: OrtException: Error code - ORT_FAIL - message: model has no supported nodes; " +
            "choose XNNPACK instead", Failure.describe(hidden))
    }

    @Test
    fun eachProviderSuggestsTheNextAndTheLastSaysSo() {
        assertTrue(ProviderError(Provider.XNNPACK, OrtException("x")).message!!.endsWith("; choose CPU instead"))
        val last = ProviderError(Provider.CPU, OrtException("x")).message!!
        assertTrue(last, last.startsWith("CPU could not run the model: OrtException: x; it is the last provider to try"))
        val native = ProviderError(Provider.XNNPACK, OrtException("std::bad_alloc")).message!!
        assertTrue(native, native.startsWith("XNNPACK ran out of native memory") && "choose" !in native)
    }

    @Test
    fun whatRanOutIsSaidPlainly() {
        val heap = Failure.describe(OutOfMemoryError("Failed to allocate a 150994952 byte allocation with 25165824 free bytes"))
        assertTrue(heap, heap.startsWith("out of memory: the Java heap (at most ") && heap.contains("150994952 byte"))
        assertTrue(heap, heap.endsWith("use smaller images"))
        assertEquals("NullPointerException", Failure.describe(NullPointerException()))
        assertEquals("the mono image is 50x40; at least 64 px a side are needed",
            Failure.describe(IllegalArgumentException("the mono image is 50x40; at least 64 px a side are needed")))
        assertEquals("IOException: EACCES", Failure.describe(java.io.IOException("EACCES")))
    }

    @Test
    fun longBenchmarkLinesAreLoggedInPiecesThatJoinBack() {
        val error = Benchmark.errorLine("nnapi", ProviderError(Provider.NNAPI, OrtException("node \"conv\"\tfailed\r\n".repeat(200))))
        assertFalse(error.contains('\t') || error.contains('\r'))  // escaped: Python's json refuses raw control characters
        val entries = Benchmark.logEntries(error)
        assertEquals((error.length + Benchmark.LOG_CHUNK - 1) / Benchmark.LOG_CHUNK, entries.size)
        assertTrue(entries.all { it.length <= Benchmark.LOG_CHUNK + 32 && it.startsWith("${Benchmark.PART_TAG} ") })
        assertTrue(entries[0].startsWith("${Benchmark.PART_TAG} 1/${entries.size} ${Benchmark.ERROR_TAG} {"))
        assertEquals(error, entries.joinToString("") { it.substringAfter(" ").substringAfter(" ") })
        assertEquals(listOf("short"), Benchmark.logEntries("short"))
        val emoji = "\uD83D\uDE00".repeat(3)  // surrogate pairs are never split across entries
        assertEquals((1..3).map { "${Benchmark.PART_TAG} $it/3 \uD83D\uDE00" }, Benchmark.logEntries(emoji, limit = 3))
    }
}
