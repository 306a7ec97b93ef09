package dev.dualcam.core

/**
 * An image of float samples, row-major with interleaved channels: the (H, W) or (H, W, C) float32 arrays of
 * dualcam.runtime, so every stage can be compared with the Python runtime value for value. The pipeline keeps them
 * at the working scale or a strip of rows at a time; full-resolution images stay [ByteImage]s.
 */
class FloatImage(height: Int, width: Int, channels: Int, val data: FloatArray = FloatArray(height * width * channels)) :
    Raster(height, width, channels) {
    init {
        require(data.size == height * width * channels) { "${data.size} samples for a ${height}x${width}x$channels image" }
    }

    override fun get(y: Int, x: Int, c: Int): Float = data[(y * width + x) * channels + c]

    override fun readRow(y: Int, out: FloatArray) = System.arraycopy(data, y * width * channels, out, 0, width * channels)

    operator fun set(y: Int, x: Int, c: Int, value: Float) {
        data[(y * width + x) * channels + c] = value
    }

    /** Mirrored left to right: how the other camera arrangement is brought into the network's. */
    fun flippedHorizontally(): FloatImage {
        val out = FloatImage(height, width, channels)
        for (y in 0 until height) for (x in 0 until width) {
            System.arraycopy(data, (y * width + x) * channels, out.data, (y * width + width - 1 - x) * channels, channels)
        }
        return out
    }

    /** image[:, x + offset] at every column x, the edge column repeated past either side (arrangement.moved). */
    fun moved(offset: Int): FloatImage {
        if (offset == 0) return this
        val out = FloatImage(height, width, channels)
        for (y in 0 until height) for (x in 0 until width) {
            val from = (x + offset).coerceIn(0, width - 1)
            System.arraycopy(data, (y * width + from) * channels, out.data, (y * width + x) * channels, channels)
        }
        return out
    }

    /** One channel as its own image. */
    fun channel(c: Int): FloatImage = FloatImage(height, width, 1, FloatArray(height * width) { data[it * channels + c] })

    companion object {
        /** Channels side by side, as numpy's dstack. */
        fun stack(vararg images: FloatImage): FloatImage {
            val first = images[0]
            val channels = images.fold(0) { n, image -> n + image.channels }
            val out = FloatImage(first.height, first.width, channels)
            for (i in 0 until first.height * first.width) {
                var c = 0
                for (image in images) {
                    require(image.height == first.height && image.width == first.width) { "stacking images of different sizes" }
                    for (k in 0 until image.channels) out.data[i * channels + c++] = image.data[i * image.channels + k]
                }
            }
            return out
        }
    }
}
