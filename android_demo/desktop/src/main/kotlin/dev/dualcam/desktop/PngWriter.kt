package dev.dualcam.desktop

import java.io.ByteArrayOutputStream
import java.io.Closeable
import java.io.DataOutputStream
import java.io.File
import java.io.FileOutputStream
import java.util.zip.CRC32
import java.util.zip.Deflater

/**
 * An 8-bit RGB PNG written a strip of rows at a time (the core's RowSink), so a 12-megapixel result never exists
 * whole in memory: rows are deflated as they come and flushed in IDAT chunks. It is written to a temporary file next
 * to `file` and renamed into place by `finish`; closed without it, the temporary file is removed and no partial
 * image is left.
 */
class PngWriter(private val file: File, private val width: Int, private val height: Int) : Closeable {
    private val partial = File(file.absoluteFile.parentFile, ".${file.name}.partial")
    private val out = DataOutputStream(FileOutputStream(partial).buffered())
    private val deflater = Deflater(6)
    private val pending = ByteArrayOutputStream()
    private val buffer = ByteArray(1 shl 16)
    private var written = 0
    private var finished = false

    init {
        out.write(byteArrayOf(0x89.toByte(), 'P'.toByte(), 'N'.toByte(), 'G'.toByte(), 13, 10, 26, 10))
        chunk("IHDR", ByteArrayOutputStream().also { header ->
            DataOutputStream(header).apply {
                writeInt(width)
                writeInt(height)
                write(byteArrayOf(8, 2, 0, 0, 0))  // 8 bits, RGB, deflate, no filter method, no interlace
            }
        }.toByteArray())
    }

    /** `count` rows from `top`, as 0xAARRGGBB pixels: they must come in order, top to bottom. */
    fun rows(top: Int, pixels: IntArray, count: Int) {
        check(top == written) { "rows $top.. came before rows $written.." }
        val line = ByteArray(1 + 3 * width)  // filter type 0, then R, G, B
        for (y in 0 until count) {
            for (x in 0 until width) {
                val argb = pixels[y * width + x]
                line[1 + 3 * x] = (argb shr 16).toByte()
                line[2 + 3 * x] = (argb shr 8).toByte()
                line[3 + 3 * x] = argb.toByte()
            }
            deflater.setInput(line)
            while (!deflater.needsInput()) pending.write(buffer, 0, deflater.deflate(buffer))
        }
        written += count
        if (pending.size() >= 1 shl 20) flushData()
    }

    /** Completes the image once every row is written, and puts it in place. */
    fun finish() {
        check(written == height) { "$written of $height rows written" }
        deflater.finish()
        while (!deflater.finished()) pending.write(buffer, 0, deflater.deflate(buffer))
        flushData()
        chunk("IEND", ByteArray(0))
        out.close()
        if (!partial.renameTo(file)) throw IllegalStateException("could not write $file")
        finished = true
    }

    private fun flushData() {
        if (pending.size() == 0) return
        chunk("IDAT", pending.toByteArray())
        pending.reset()
    }

    private fun chunk(type: String, data: ByteArray) {
        val crc = CRC32()
        val name = type.toByteArray(Charsets.US_ASCII)
        crc.update(name)
        crc.update(data)
        out.writeInt(data.size)
        out.write(name)
        out.write(data)
        out.writeInt(crc.value.toInt())
    }

    override fun close() {
        deflater.end()
        if (!finished) {
            out.close()
            partial.delete()
        }
    }
}
