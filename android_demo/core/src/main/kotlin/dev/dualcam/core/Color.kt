package dev.dualcam.core

/**
 * BT.601 full-range YCbCr on [0, 1] floats, the colour space the network predicts in (dualcam.runtime.color):
 * Y = 0.299 R + 0.587 G + 0.114 B, Cb = 0.564 (B - Y) + 0.5, Cr = 0.713 (R - Y) + 0.5; channels Y, Cb, Cr.
 * Arithmetic is float32 in numpy's order, so the results agree with the runtime to the last bit or two.
 */
object Color {
    const val LUMA_R = 0.299f
    const val LUMA_G = 0.587f
    const val LUMA_B = 0.114f
    const val CB_SCALE = 0.564f
    const val CR_SCALE = 0.713f

    fun luma(r: Float, g: Float, b: Float): Float = r * LUMA_R + g * LUMA_G + b * LUMA_B

    /** (H, W, 3) RGB -> (H, W, 3) Y, Cb, Cr. */
    fun rgbToYcbcr(rgb: FloatImage): FloatImage {
        require(rgb.channels == 3) { "RGB needs 3 channels, not ${rgb.channels}" }
        val out = FloatImage(rgb.height, rgb.width, 3)
        val s = rgb.data
        for (i in 0 until rgb.height * rgb.width) {
            val r = s[3 * i]
            val g = s[3 * i + 1]
            val b = s[3 * i + 2]
            val y = luma(r, g, b)
            out.data[3 * i] = y
            out.data[3 * i + 1] = CB_SCALE * (b - y) + 0.5f
            out.data[3 * i + 2] = CR_SCALE * (r - y) + 0.5f
        }
        return out
    }

    /** (H, W, 3) Y, Cb, Cr -> (H, W, 3) RGB, clipped to [0, 1] unless `clip` is false. */
    fun ycbcrToRgb(ycbcr: FloatImage, clip: Boolean = true): FloatImage {
        require(ycbcr.channels == 3) { "YCbCr needs 3 channels, not ${ycbcr.channels}" }
        val out = FloatImage(ycbcr.height, ycbcr.width, 3)
        val s = ycbcr.data
        for (i in 0 until ycbcr.height * ycbcr.width) {
            val y = s[3 * i]
            val b = y + (s[3 * i + 1] - 0.5f) / CB_SCALE
            val r = y + (s[3 * i + 2] - 0.5f) / CR_SCALE
            val g = (y - LUMA_R * r - LUMA_B * b) / LUMA_G
            out.data[3 * i] = if (clip) r.coerceIn(0f, 1f) else r
            out.data[3 * i + 1] = if (clip) g.coerceIn(0f, 1f) else g
            out.data[3 * i + 2] = if (clip) b.coerceIn(0f, 1f) else b
        }
        return out
    }

    /** The mono image is the luma of the result, pixel for pixel; (H, W, 2) Cb/Cr give the colour. */
    fun merge(monoY: FloatImage, cbcr: FloatImage): FloatImage = ycbcrToRgb(FloatImage.stack(monoY, cbcr))

    /** [0, 1] -> integer levels 0..peak, rounding half to even as numpy's round does. */
    fun quantize(value: Float, peak: Int): Int = Math.rint((value.coerceIn(0f, 1f) * peak).toDouble()).toInt()

    /** (H, W, 3) RGB on [0, 1] -> opaque 0xAARRGGBB pixels, the layout of Android's Bitmap and Java's BufferedImage. */
    fun toArgb(rgb: FloatImage): IntArray = IntArray(rgb.height * rgb.width) { i ->
        (0xff shl 24) or (quantize(rgb.data[3 * i], 255) shl 16) or
            (quantize(rgb.data[3 * i + 1], 255) shl 8) or quantize(rgb.data[3 * i + 2], 255)
    }

    /** 0xAARRGGBB pixels -> (H, W, 3) RGB on [0, 1]. */
    fun fromArgb(pixels: IntArray, width: Int, height: Int): FloatImage {
        val out = FloatImage(height, width, 3)
        for (i in pixels.indices) {
            out.data[3 * i] = ((pixels[i] shr 16) and 0xff) / 255f
            out.data[3 * i + 1] = ((pixels[i] shr 8) and 0xff) / 255f
            out.data[3 * i + 2] = (pixels[i] and 0xff) / 255f
        }
        return out
    }

    /**
     * A mono camera image decoded as RGB (Android decodes grey PNGs so) -> (H, W) Y: the grey level itself where
     * R = G = B, as the runtime reads a grey image, else the luma.
     */
    fun monoFromRgb(rgb: FloatImage): FloatImage {
        val grey = (0 until rgb.height * rgb.width).all { rgb.data[3 * it] == rgb.data[3 * it + 1] && rgb.data[3 * it + 1] == rgb.data[3 * it + 2] }
        return FloatImage(rgb.height, rgb.width, 1, FloatArray(rgb.height * rgb.width) { i ->
            if (grey) rgb.data[3 * i] else luma(rgb.data[3 * i], rgb.data[3 * i + 1], rgb.data[3 * i + 2])
        })
    }
}
