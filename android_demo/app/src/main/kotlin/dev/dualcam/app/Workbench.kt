package dev.dualcam.app

import android.content.Context
import android.graphics.Bitmap
import android.graphics.BitmapFactory
import android.net.Uri
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.util.Log
import dev.dualcam.core.Benchmark
import dev.dualcam.core.ByteImage
import dev.dualcam.core.Color
import dev.dualcam.core.Colorizer
import dev.dualcam.core.ExifOrientation
import dev.dualcam.core.Failure
import dev.dualcam.core.GeometryOptions
import dev.dualcam.core.Provider
import dev.dualcam.core.Raster
import dev.dualcam.core.TileSession
import java.util.Locale
import java.util.concurrent.CancellationException
import java.util.concurrent.Executors

/**
 * What must outlive one MainActivity: the picked pair, the one worker thread and its job, the open session and the
 * last result. A configuration change (rotation, dark mode, multi-window, a fold) recreates the Activity; the old one
 * hands this object to the new one (onRetainNonConfigurationInstance), so a running job goes on, reports to the new
 * screen, and no second job can start beside it. Closed when the user leaves for good: the job stops at its next
 * tile and the session is closed.
 *
 * Fields the screen shows are touched on the main thread only; the session on the worker thread only.
 */
class Workbench(private val context: Context) {
    /** The picked images; null for the bundled sample's. */
    private var monoUri: Uri? = null
    private var colorUri: Uri? = null

    var status: String = ""
        private set
    var before: Bitmap? = null
        private set
    var after: Bitmap? = null
        private set
    var running = false
        private set

    private var screen: MainActivity? = null
    private val main = Handler(Looper.getMainLooper())
    private val worker = Executors.newSingleThreadExecutor()
    @Volatile private var closed = false

    /** Kept while the provider and the model stay the same: NNAPI compiles the model again for every new session. */
    private var session: TileSession? = null
    private var sessionKey: String? = null

    fun attach(activity: MainActivity) {
        screen = activity
        activity.show(this)
    }

    fun detach(activity: MainActivity) {
        if (screen === activity) screen = null
    }

    /** The picks, as strings in the Activity's saved state: they come back if Android ends the process meanwhile. */
    fun save(state: Bundle) {
        state.putString(STATE_MONO, monoUri?.toString())
        state.putString(STATE_COLOR, colorUri?.toString())
    }

    fun restore(state: Bundle?) {
        monoUri = state?.getString(STATE_MONO)?.let(Uri::parse)
        colorUri = state?.getString(STATE_COLOR)?.let(Uri::parse)
    }

    fun pickSample() {
        monoUri = null
        colorUri = null
        say("the bundled sample pair (Middlebury Motorcycle)")
    }

    fun pick(mono: Boolean, uri: Uri) {
        if (mono) monoUri = uri else colorUri = uri
        say("picked ${if (mono) "the mono" else "the colour"} image")
    }

    /**
     * Starts colouring the pair unless a job runs already (the button is off then, but taps can race). The pair's
     * geometry is measured; `geometry` may give the camera side or the largest disparity instead.
     */
    fun colorize(provider: Provider, geometry: GeometryOptions) {
        if (running || closed) return
        running = true
        say("colouring on ${provider.title}…")
        val mono = monoUri
        val color = colorUri
        worker.execute {
            val message = try {
                colorizeOnWorker(provider, geometry, mono, color)
            } catch (error: Throwable) {
                // Throwable: running out of memory is an Error, not an Exception, and must end in words, not a crash.
                closeSession()  // a failed session may be unusable, and its memory is better given back
                "failed: ${Failure.describe(error)}"
            }
            onMain {
                running = false
                say(message)
            }
        }
    }

    private fun colorizeOnWorker(provider: Provider, geometry: GeometryOptions, mono: Uri?, color: Uri?): String {
        val monoImage = decode(mono, SAMPLE_MONO, "the mono image", asMono = true)
        val colorImage = decode(color, SAMPLE_COLOR, "the colour image", asMono = false)
        Colorizer.checkSize(monoImage, "the mono image")
        Colorizer.checkSize(colorImage, "the colour image")
        val models = Models(context)
        val model = models.manifest.model(provider.role(models.manifest))
        val key = "${provider.label} ${models.origin} ${model.sha256}"
        if (key != sessionKey) {
            closeSession()
            session = models.session(provider)
            sessionKey = key
        }
        val session = session!!
        val afterPreview = Preview(monoImage.height, monoImage.width)
        val result = Colorizer(session).colorize(monoImage, colorImage, afterPreview::rows, geometry) { done, total ->
            if (closed) throw CancellationException("the app was closed")
            onMain { say("tile $done/$total on ${provider.title}") }
        }
        val beforeBitmap = Preview(monoImage.height, monoImage.width).of(monoImage)
        val afterBitmap = afterPreview.bitmap()
        onMain {
            before = beforeBitmap
            after = afterBitmap
        }
        val measured = result.geometry
        val disparity = measured.disparities?.let { (low, high) -> String.format(Locale.ROOT, "%.1f..%.1f px", low, high) }
            ?: "unknown"
        return String.format(Locale.ROOT, "%dx%d, colour camera %s%s, disparities %s, chroma scale %.3f, %d tiles; " +
            "%s (%s) on %s: geometry %.2f s, model %.2f s, end to end %.2f s, peak %.0f MB%s",
            monoImage.width, monoImage.height, measured.cameraSide.label,
            if (measured.arrangement.transposed) " (portrait)" else "", disparity, result.scale, result.grid.size, model.file,
            models.origin, session.backend.description, result.geometrySeconds, result.modelSeconds, result.totalSeconds,
            Benchmark.peakResidentMb() ?: Double.NaN, measured.warnings.joinToString("") { "\n$it" })
    }

    /** Benchmark mode: one provider, one tile of the sample pair; the result goes to logcat, then the Activity ends. */
    fun benchmark(label: String, repeats: Int) {
        if (running || closed) return
        running = true
        worker.execute {
            val line = try {
                val provider = Provider.named(label)
                val models = Models(context)
                val mono = decode(null, SAMPLE_MONO, "the sample mono image", asMono = true)
                val color = decode(null, SAMPLE_COLOR, "the sample colour image", asMono = false)
                Benchmark.run(provider.label, provider.role(models.manifest), models.manifest, mono, color, repeats) {
                    models.open(provider, memoryArena = true)
                }.line()
            } catch (error: Throwable) {
                Benchmark.errorLine(label, error)
            }
            Benchmark.logEntries(line).forEach { Log.i(LOG_TAG, it) }
            onMain {
                running = false
                screen?.finish()
            }
        }
    }

    /** The user left for good: stop the job at its next tile, then close the session on the thread that uses it. */
    fun close() {
        if (closed) return
        closed = true
        screen = null
        before = null
        after = null
        main.removeCallbacksAndMessages(null)
        worker.execute { closeSession() }
        worker.shutdown()
    }

    private fun closeSession() {
        session?.close()
        session = null
        sessionKey = null
    }

    private fun say(text: String) {
        status = text
        screen?.show(this)
    }

    private fun onMain(update: () -> Unit) {
        main.post { if (!closed) update() }
    }

    /**
     * A picked image (or the bundled sample) as its 8-bit samples (the mono camera's as one grey channel where the file
     * is grey), seen upright by its EXIF orientation: phones store portrait shots as landscape pixels plus that tag,
     * which BitmapFactory does not apply. The bitmap is copied a row at a time and recycled, so the Java heap holds
     * 1 byte a pixel of the mono image and 3 of the colour image.
     */
    private fun decode(picked: Uri?, sample: String, name: String, asMono: Boolean): Raster {
        val bytes = try {
            (if (picked == null) context.assets.open(sample) else context.contentResolver.openInputStream(picked))
                ?.use { it.readBytes() } ?: throw IllegalStateException("$name can no longer be read; pick it again")
        } catch (denied: SecurityException) {
            throw IllegalStateException("$name can no longer be read (Android withdrew the permission); pick it again")
        }
        val options = BitmapFactory.Options().apply {
            inPreferredConfig = Bitmap.Config.ARGB_8888
            inScaled = false
        }
        val bitmap = BitmapFactory.decodeByteArray(bytes, 0, bytes.size, options)
            ?: throw IllegalArgumentException("$name is not an image Android can decode")
        val stored = ByteImage(bitmap.height, bitmap.width, 3)
        val row = IntArray(bitmap.width)
        for (y in 0 until bitmap.height) {
            bitmap.getPixels(row, 0, bitmap.width, 0, y, bitmap.width, 1)
            stored.setArgbRow(y, row)
        }
        bitmap.recycle()
        return ExifOrientation.ofJpeg(bytes).upright(if (asMono) stored.asMono() else stored)
    }

    /**
     * What the screen shows of an image: block averages, at most PREVIEW_SIDE px on the long side, built from the
     * strips the pipeline writes (or read from a grey or RGB image). Android refuses to draw a bitmap over 100 MB
     * ("Canvas: trying to draw too large bitmap"), and full-size bitmaps kept across configuration changes would hold
     * hundreds of MB.
     */
    private class Preview(height: Int, width: Int) {
        private val step = (maxOf(width, height) + PREVIEW_SIDE - 1) / PREVIEW_SIDE
        private val previewWidth = width / step
        private val previewHeight = height / step
        private val pixels = IntArray(previewWidth * previewHeight)
        private val sums = IntArray(3 * previewWidth)

        /** A strip of the coloured image (the pipeline's RowSink). */
        fun rows(top: Int, strip: IntArray, count: Int) {
            val width = strip.size / count
            for (r in 0 until count) {
                val y = top + r
                if (y / step >= previewHeight) return
                for (x in 0 until previewWidth * step) {
                    val argb = strip[r * width + x]
                    for (c in 0 until 3) sums[3 * (x / step) + c] += (argb shr (16 - 8 * c)) and 0xff
                }
                if (y % step == step - 1) finishRow(y / step)
            }
        }

        /** The preview of a grey or RGB image read directly. */
        fun of(image: Raster): Bitmap {
            for (y in 0 until previewHeight * step) {
                for (x in 0 until previewWidth * step) for (c in 0 until 3) {
                    sums[3 * (x / step) + c] += Math.round(image[y, x, minOf(c, image.channels - 1)] * 255)
                }
                if (y % step == step - 1) finishRow(y / step)
            }
            return bitmap()
        }

        /** The block sums of 8-bit levels in `sums` -> preview row `row`. */
        private fun finishRow(row: Int) {
            for (x in 0 until previewWidth) {
                var argb = 0xff shl 24
                for (c in 0 until 3) argb = argb or (Color.quantize(sums[3 * x + c] / 255f / (step * step), 255) shl (16 - 8 * c))
                pixels[row * previewWidth + x] = argb
            }
            sums.fill(0)
        }

        fun bitmap(): Bitmap = Bitmap.createBitmap(pixels, previewWidth, previewHeight, Bitmap.Config.ARGB_8888)
    }

    companion object {
        const val LOG_TAG = "DualcamBench"
        const val SAMPLE_MONO = "samples/motorcycle_mono.png"
        const val SAMPLE_COLOR = "samples/motorcycle_color.png"
        private const val PREVIEW_SIDE = 2048
        private const val STATE_MONO = "mono"
        private const val STATE_COLOR = "color"
    }
}
