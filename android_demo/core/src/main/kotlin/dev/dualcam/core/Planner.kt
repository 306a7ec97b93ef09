package dev.dualcam.core

/** How a pair's session runs inside the memory budget, and the peak expected (dualcam.runtime.planner.MemoryPlan). */
class MemoryPlan(val memoryArena: Boolean, val estimatedPeakMb: Int)

/** Raised when the memory budget cannot hold even the leanest session; the message says how much is needed. */
class BudgetError(val neededMb: Int, message: String) : IllegalArgumentException(message)

/**
 * How a pair's session runs inside the memory budget (dualcam.runtime.planner): the interpreter's share, the planes
 * held at the mono image's full resolution and at the working scale, and one session on the model's tiles, with
 * onnxruntime's memory arena (fastest) or without it (about half the session's memory). The app's models are exported
 * for phones with a fixed tile, so the budget decides only the arena here; the runtime's CPU models may also shrink
 * their tile. The coefficients are the runtime's, measured for the desktop process; a phone's can be measured with
 * the app's benchmark mode.
 */
object Planner {
    const val BASE_MB = 120
    const val FULL_RES_BYTES_PER_PIXEL = 25
    const val WORKING_BYTES_PER_PIXEL = 22
    /** Per colour pixel beyond the mono image's count: its samples and one float plane at a time, held while the pair is coloured. */
    const val EXTRA_COLOR_BYTES_PER_PIXEL = 16
    /** The runtime's table for CPUs other than the AVX2 one it was measured on (a phone's among them). */
    private val SESSION_KB_PER_TILE_PIXEL = mapOf(
        Pair("fp32", true) to 24.0, Pair("fp32", false) to 10.5,
        Pair("int8", true) to 7.0, Pair("int8", false) to 4.5,
        Pair("mobile", true) to 29.0, Pair("mobile", false) to 9.5,
        Pair("int8_ort", true) to 21.5, Pair("int8_ort", false) to 9.5,
        Pair("mobile_ort", true) to 21.5, Pair("mobile_ort", false) to 9.5,
        Pair("mobile_int8", true) to 7.0, Pair("mobile_int8", false) to 4.5,
        Pair("mobile_int8_ort", true) to 21.5, Pair("mobile_int8_ort", false) to 9.5
    )

    /** A role the table does not know (one a later export adds) is given the largest coefficient. */
    private fun sessionKbPerTilePixel(role: String, arena: Boolean): Double =
        SESSION_KB_PER_TILE_PIXEL[Pair(role, arena)]
            ?: SESSION_KB_PER_TILE_PIXEL.filterKeys { it.second == arena }.values.reduce { a, b -> Math.max(a, b) }

    private fun estimate(monoPixels: Long, colorPixels: Long?, workingPixels: Long, role: String, manifest: ModelManifest,
                         arena: Boolean): Double {
        val extraColor = if (colorPixels == null) 0L else maxOf(0L, colorPixels - monoPixels)
        val planes = monoPixels * FULL_RES_BYTES_PER_PIXEL + extraColor * EXTRA_COLOR_BYTES_PER_PIXEL + workingPixels * WORKING_BYTES_PER_PIXEL
        return BASE_MB + planes / (1 shl 20).toDouble() + manifest.referencePixels * sessionKbPerTilePixel(role, arena) / 1024
    }

    /**
     * The arena (fastest) if a (height, width) mono image whose network frame is `working` (height, width), and a
     * colour image of `colorPixels` (null: the same size), fit `budgetMb` with it, else no arena; BudgetError if neither
     * fits. `working` null (not measured yet): the least the pair could need (the lowest working scale, no arena), so
     * that a budget nothing fits is refused before any work. `role` is the manifest's, as given.
     */
    fun memory(height: Int, width: Int, role: String, manifest: ModelManifest, budgetMb: Int, colorPixels: Long? = null,
               working: Pair<Int, Int>? = null): MemoryPlan {
        val monoPixels = height.toLong() * width
        if (working == null) {
            val lowest = maxOf(1, ChromaScale.roundHalfEven(height * manifest.minScale)).toLong() *
                maxOf(1, ChromaScale.roundHalfEven(width * manifest.minScale))
            val least = estimate(monoPixels, colorPixels, lowest, role, manifest, false)
            val needed = ChromaScale.roundHalfEven(least)
            if (least > budgetMb) throw BudgetError(needed, "$budgetMb MB is too little for a ${width}x$height pair with the $role model: it needs at least $needed MB")
            return MemoryPlan(false, needed)
        }
        var peak = 0.0
        for (arena in listOf(true, false)) {
            peak = estimate(monoPixels, colorPixels, working.first.toLong() * working.second, role, manifest, arena)
            if (peak <= budgetMb) return MemoryPlan(arena, ChromaScale.roundHalfEven(peak))
        }
        val needed = ChromaScale.roundHalfEven(peak)
        throw BudgetError(needed, "$budgetMb MB is too little for a ${width}x$height pair with the $role model on " +
            "${manifest.tileHeight}x${manifest.tileWidth} tiles: it needs about $needed MB")
    }
}
