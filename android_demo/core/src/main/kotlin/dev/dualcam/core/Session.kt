package dev.dualcam.core

import java.io.Closeable

/**
 * One exported model and the backend that runs it (dualcam.runtime.session.OrtModel). The tile is fixed at export,
 * so each pair's memory budget decides only whether the backend runs with onnxruntime's memory arena: `prepare`
 * plans that before any backend exists, opens one that way, and reopens it only when the decision changes, so a
 * budget too small for the pair fails before a model is loaded.
 */
class TileSession(val manifest: ModelManifest, val role: String, private val open: (memoryArena: Boolean) -> InferenceBackend) : Closeable {
    private var opened: InferenceBackend? = null
    private var memoryArena = false

    /** The backend the last `prepare` readied. */
    val backend: InferenceBackend get() = opened ?: throw IllegalStateException("prepare the session for a pair first")

    /**
     * Plan a (height, width) mono image whose network frame is `working` and a colour image of `colorPixels` into
     * `budgetMb` (BudgetError if it cannot fit) and make the backend run that way. Without `working` only a budget the
     * pair cannot fit at all is refused, and nothing is opened.
     */
    fun prepare(height: Int, width: Int, colorPixels: Long?, budgetMb: Int, working: Pair<Int, Int>? = null): MemoryPlan {
        val plan = Planner.memory(height, width, role, manifest, budgetMb, colorPixels, working)
        if (working == null) return plan
        if (opened == null || plan.memoryArena != memoryArena) {
            close()  // the previous backend goes before the next one is made: one model in memory at a time
            opened = open(plan.memoryArena)
            memoryArena = plan.memoryArena
        }
        return plan
    }

    override fun close() {
        opened?.close()
        opened = null
    }
}
