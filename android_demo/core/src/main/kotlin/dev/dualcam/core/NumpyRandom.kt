package dev.dualcam.core

/**
 * numpy's `np.random.default_rng(0)` (PCG64) and its `integers(0, high)`, draw for draw: the runtime's RANSAC and its
 * anisotropy measure sample matches with it, so the Kotlin port picks the very same samples and reaches the very same
 * fit. Only the seed 0 is used there, so its state after numpy's SeedSequence is written out (golden.json holds
 * numpy's own, and the draws).
 */
class NumpyRandom {
    private var stateHigh = SEED0_HIGH
    private var stateLow = SEED0_LOW
    private var pendingHalf: Int? = null

    /** PCG64's step (state = state * multiplier + increment, mod 2^128), then its XSL-RR output. */
    private fun next64(): Long {
        val lowProduct = MULTIPLIER_LOW * stateLow
        val carryProduct = unsignedMultiplyHigh(MULTIPLIER_LOW, stateLow)
        val high = carryProduct + MULTIPLIER_LOW * stateHigh + MULTIPLIER_HIGH * stateLow
        val low = lowProduct + INCREMENT_LOW
        val carry = if ((low xor Long.MIN_VALUE) < (lowProduct xor Long.MIN_VALUE)) 1 else 0  // unsigned low < lowProduct
        stateHigh = high + INCREMENT_HIGH + carry
        stateLow = low
        return java.lang.Long.rotateRight(stateHigh xor stateLow, (stateHigh ushr 58).toInt())
    }

    /** numpy's next_uint32: the low half of a 64-bit draw, then its high half. */
    private fun next32(): Int {
        pendingHalf?.let { pendingHalf = null; return it }
        val draw = next64()
        pendingHalf = (draw ushr 32).toInt()
        return draw.toInt()
    }

    /** One of 0 until `high` as `integers(0, high)` draws it (Lemire's bounded method on 32-bit draws), high < 2^32. */
    fun integer(high: Long): Long {
        require(high in 1..0xffffffffL) { "integers(0, $high) is outside what the runtime draws" }
        val range = high - 1
        if (range == 0L) return 0
        var product = (next32().toLong() and MASK32) * high
        var leftover = product and MASK32
        if (leftover < high) {
            val threshold = (MASK32 - range) % high
            while (leftover < threshold) {
                product = (next32().toLong() and MASK32) * high
                leftover = product and MASK32
            }
        }
        return product ushr 32
    }

    /** `integers(0, high, size=count)`, row-major as numpy fills an array of any shape. */
    fun integers(high: Int, count: Int): IntArray = IntArray(count) { integer(high.toLong()).toInt() }

    companion object {
        private const val MASK32 = 0xffffffffL
        private const val MULTIPLIER_HIGH = 0x2360ed051fc65da4L
        private const val MULTIPLIER_LOW = 0x4385df649fccf645L
        /** The state and increment numpy's SeedSequence(0) gives PCG64 (np.random.default_rng(0).bit_generator.state). */
        const val SEED0_HIGH = 0x1aa1b5345996452dL
        const val SEED0_LOW = 0x09585eb7a69561e3L
        const val INCREMENT_HIGH = 0x418ddadb3af71a82L
        const val INCREMENT_LOW = 0x588133bc447873a9L

        /** The high 64 bits of the unsigned 128-bit product (Math.multiplyHigh is signed, and newer than Android 7). */
        private fun unsignedMultiplyHigh(a: Long, b: Long): Long {
            val a0 = a and MASK32
            val a1 = a ushr 32
            val b0 = b and MASK32
            val b1 = b ushr 32
            val low = a0 * b0
            val middle1 = a1 * b0 + (low ushr 32)
            val middle2 = a0 * b1 + (middle1 and MASK32)
            return a1 * b1 + (middle1 ushr 32) + (middle2 ushr 32)
        }
    }
}
