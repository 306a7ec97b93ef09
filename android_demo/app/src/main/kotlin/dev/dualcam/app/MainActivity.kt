package dev.dualcam.app

import android.app.Activity
import android.content.Intent
import android.graphics.Bitmap
import android.graphics.BitmapFactory
import android.net.Uri
import android.os.Bundle
import android.util.Log
import android.view.View
import android.widget.Button
import android.widget.CheckBox
import android.widget.EditText
import android.widget.ImageView
import android.widget.RadioGroup
import android.widget.TextView
import dev.dualcam.core.Benchmark
import dev.dualcam.core.CameraSide
import dev.dualcam.core.Color
import dev.dualcam.core.Colorizer
import dev.dualcam.core.FloatImage
import dev.dualcam.core.Provider
import java.io.InputStream
import java.util.Locale
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * Thin glue: pick the bundled sample pair or two images, choose the execution provider, and show the mono image
 * beside the coloured result with model time, end-to-end time and peak memory. All work runs on one background
 * thread; sessions are closed after each run. Started with the `benchmark` extra (a provider name), it times one
 * tile for tools/device_bench.py instead, logs one line and finishes.
 */
class MainActivity : Activity() {
    private val worker: ExecutorService = Executors.newSingleThreadExecutor()
    private var monoSource: () -> InputStream = { assets.open(SAMPLE_MONO) }
    private var colorSource: () -> InputStream = { assets.open(SAMPLE_COLOR) }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val benchmark = intent.getStringExtra(EXTRA_BENCHMARK)
        if (benchmark != null) {
            worker.execute { benchmark(benchmark, intent.getIntExtra(EXTRA_REPEATS, 10)) }
            return
        }
        setContentView(R.layout.activity_main)
        view<Button>(R.id.sample).setOnClickListener {
            monoSource = { assets.open(SAMPLE_MONO) }
            colorSource = { assets.open(SAMPLE_COLOR) }
            status("the bundled sample pair (Middlebury Motorcycle); its largest disparity is about 58 px")
            view<EditText>(R.id.max_disparity).setText("58.2")
        }
        view<Button>(R.id.pick_mono).setOnClickListener { pick(PICK_MONO) }
        view<Button>(R.id.pick_color).setOnClickListener { pick(PICK_COLOR) }
        view<Button>(R.id.run).setOnClickListener { colorize() }
    }

    override fun onDestroy() {
        worker.shutdownNow()
        super.onDestroy()
    }

    private fun pick(request: Int) {
        startActivityForResult(Intent(Intent.ACTION_OPEN_DOCUMENT).addCategory(Intent.CATEGORY_OPENABLE).setType("image/*"), request)
    }

    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        val uri: Uri = data?.data ?: return
        if (resultCode != RESULT_OK) return
        if (requestCode == PICK_MONO) monoSource = { contentResolver.openInputStream(uri)!! }
        if (requestCode == PICK_COLOR) colorSource = { contentResolver.openInputStream(uri)!! }
        status("picked ${if (requestCode == PICK_MONO) "the mono" else "the colour"} image")
    }

    private fun colorize() {
        val provider = when (view<RadioGroup>(R.id.provider).checkedRadioButtonId) {
            R.id.nnapi -> Provider.NNAPI
            R.id.xnnpack -> Provider.XNNPACK
            else -> Provider.CPU
        }
        val side = if (view<CheckBox>(R.id.color_on_right).isChecked) CameraSide.RIGHT else CameraSide.LEFT
        val disparity = view<EditText>(R.id.max_disparity).text.toString().toDoubleOrNull()
        val mono = monoSource
        val color = colorSource
        view<Button>(R.id.run).isEnabled = false
        status("colouring on ${provider.label}…")
        worker.execute {
            val message = try {
                val monoImage = Color.monoFromRgb(decode(mono))
                val colorImage = decode(color)
                Colorizer.checkSize(monoImage, "the mono image")
                Colorizer.checkSize(colorImage, "the colour image")
                val result = Models(this).session(provider).use { session ->
                    Colorizer(session).colorize(monoImage, colorImage, side, disparity) { done, total ->
                        runOnUiThread { status("tile $done/$total on ${provider.label}") }
                    }
                }
                val before = bitmap(FloatImage.stack(monoImage, monoImage, monoImage))
                val after = bitmap(result.rgb)
                runOnUiThread {
                    view<ImageView>(R.id.before).setImageBitmap(before)
                    view<ImageView>(R.id.after).setImageBitmap(after)
                }
                String.format(Locale.ROOT, "%dx%d, chroma scale %.3f, %d tiles, %s on %s: model %.2f s, end to end %.2f s, peak %.0f MB",
                    monoImage.width, monoImage.height, result.scale, result.grid.size, provider.role, provider.label,
                    result.modelSeconds, result.totalSeconds, Benchmark.peakResidentMb() ?: Double.NaN)
            } catch (error: Exception) {
                "failed: ${error.message}"
            }
            runOnUiThread {
                status(message)
                view<Button>(R.id.run).isEnabled = true
            }
        }
    }

    /** Benchmark mode: one provider, one tile of the sample pair, in this fresh process; the result goes to logcat. */
    private fun benchmark(label: String, repeats: Int) {
        try {
            val provider = Provider.named(label)
            val models = Models(this)
            val mono = Color.monoFromRgb(decode { assets.open(SAMPLE_MONO) })
            val ref = Color.rgbToYcbcr(decode { assets.open(SAMPLE_COLOR) })
            Log.i(LOG_TAG, Benchmark.run(provider.label, provider.role, models.manifest, mono, ref, repeats) { models.open(provider, memoryArena = true) }.line())
        } catch (error: Exception) {
            Log.i(LOG_TAG, Benchmark.errorLine(label, error))
        }
        runOnUiThread { finish() }
    }

    private fun decode(open: () -> InputStream): FloatImage {
        val options = BitmapFactory.Options().apply {
            inPreferredConfig = Bitmap.Config.ARGB_8888
            inScaled = false
        }
        val bitmap = open().use { BitmapFactory.decodeStream(it, null, options) } ?: throw IllegalArgumentException("not an image Android can decode")
        val pixels = IntArray(bitmap.width * bitmap.height)
        bitmap.getPixels(pixels, 0, bitmap.width, 0, 0, bitmap.width, bitmap.height)
        bitmap.recycle()
        return Color.fromArgb(pixels, bitmap.width, bitmap.height)
    }

    private fun bitmap(rgb: FloatImage): Bitmap = Bitmap.createBitmap(Color.toArgb(rgb), rgb.width, rgb.height, Bitmap.Config.ARGB_8888)

    /** findViewById typed; written so it compiles against API 23's android.jar and today's generic one alike. */
    @Suppress("UNCHECKED_CAST")
    private fun <V : View> view(id: Int): V {
        val found: View = findViewById(id)
        return found as V
    }

    private fun status(text: String) {
        view<TextView>(R.id.status).text = text
    }

    companion object {
        const val EXTRA_BENCHMARK = "benchmark"
        const val EXTRA_REPEATS = "repeats"
        const val LOG_TAG = "DualcamBench"
        const val SAMPLE_MONO = "samples/motorcycle_mono.png"
        const val SAMPLE_COLOR = "samples/motorcycle_color.png"
        const val PICK_MONO = 1
        const val PICK_COLOR = 2
    }
}
