package dev.dualcam.core

import java.lang.reflect.InvocationTargetException

/**
 * An execution provider that could not open or run the model. The message names the provider and the one to choose
 * next, so whoever holds the phone knows what to tap; onnxruntime's own words follow for the bug report.
 */
class ProviderError(val provider: Provider, cause: Throwable) : RuntimeException(wording(provider, cause), cause) {
    private companion object {
        /** onnxruntime's words for an allocation that failed in native code (std::bad_alloc, its allocators). */
        val NATIVE_MEMORY = Regex("bad_alloc|failed to allocate|out of memory", RegexOption.IGNORE_CASE)

        fun wording(provider: Provider, cause: Throwable): String {
            val detail = Failure.describe(cause)
            if (NATIVE_MEMORY.containsMatchIn(detail)) {
                return "${provider.title} ran out of native memory for the model ($detail); close other apps or use smaller images"
            }
            val next = provider.next?.let { "choose ${it.title} instead" }
                ?: "it is the last provider to try, so the model file or this onnxruntime build is at fault"
            return "${provider.title} could not run the model: $detail; $next"
        }
    }
}

/** Failures in words someone can act on: never "null", never a reflection wrapper, and what ran out when memory did. */
object Failure {
    /** The error a reflective call hid: InvocationTargetException carries it as its target and has no message. */
    fun unwrap(error: Throwable): Throwable {
        var inner = error
        while (inner is InvocationTargetException && inner.targetException != null) inner = inner.targetException
        return inner
    }

    /**
     * One line for the screen or the benchmark table. Our own checks (require, ModelError, ProviderError) already speak
     * to the user, so their message stands alone; anything else keeps its class name, which is often the only clue.
     */
    fun describe(error: Throwable): String {
        val inner = unwrap(error)
        val message = inner.message
        return when {
            inner is OutOfMemoryError -> "out of memory: the Java heap (at most ${Runtime.getRuntime().maxMemory() shr 20} MB " +
                "for this app) could not take the next allocation${message?.let { " ($it)" } ?: ""}; use smaller images"
            message == null -> inner.javaClass.simpleName
            inner is ProviderError || inner is IllegalArgumentException || inner is IllegalStateException -> message
            else -> "${inner.javaClass.simpleName}: $message"
        }
    }
}
