package dev.dualcam.app

import android.content.Context
import dev.dualcam.core.Failure
import dev.dualcam.core.InferenceBackend
import dev.dualcam.core.ModelManifest
import dev.dualcam.core.Provider
import dev.dualcam.core.TileSession
import java.io.File
import java.lang.reflect.InvocationTargetException

/**
 * The exported models and their manifest: from the app's external files (where tools/device_bench.py pushes
 * other models) if a manifest is there, else from the APK's assets (runtime/models, copied at build time).
 * Every model's bytes are checked against the manifest before a session sees them.
 */
class Models(private val context: Context) {
    private val pushed: File? = context.getExternalFilesDir("models")?.takeIf { File(it, ModelManifest.MANIFEST).isFile }

    val manifest: ModelManifest = ModelManifest.parse(String(read(ModelManifest.MANIFEST), Charsets.UTF_8))

    /** For the report: "bundled" (the APK's assets) or "pushed" (device_bench.py's folder on the phone). */
    val origin: String get() = if (pushed != null) "pushed" else "bundled"

    fun bytes(role: String): ByteArray = manifest.checkBytes(role, read(manifest.model(role).file))

    /**
     * The provider's model (NNAPI: the 2-D mobile graph, int8 where exported; CPU, XNNPACK: int8), its backend opened as each pair's memory
     * plan says; closed by the caller.
     */
    fun session(provider: Provider): TileSession = TileSession(manifest, provider.role(manifest)) { memoryArena -> open(provider, memoryArena) }

    /** A backend for the provider's model, with or without onnxruntime's memory arena; closed by the caller. */
    fun open(provider: Provider, memoryArena: Boolean): InferenceBackend {
        val backend = try {
            Class.forName(ORT_BACKEND)
        } catch (missing: ClassNotFoundException) {
            throw IllegalStateException("this APK was built without onnxruntime-android (make apk); build the app with Gradle to run the models")
        }
        val model = bytes(provider.role(manifest))
        val constructor = backend.getConstructor(ByteArray::class.java, Provider::class.java, Int::class.javaPrimitiveType,
            Int::class.javaPrimitiveType, Int::class.javaPrimitiveType, Boolean::class.javaPrimitiveType)
        try {
            return constructor.newInstance(model, provider, manifest.tileHeight, manifest.tileWidth, manifest.maxDisparity,
                memoryArena) as InferenceBackend
        } catch (wrapped: InvocationTargetException) {
            throw Failure.unwrap(wrapped)  // the backend's own error (a ProviderError, out of memory), not reflection's wrapper
        }
    }

    private fun read(name: String): ByteArray =
        pushed?.let { File(it, name).readBytes() } ?: context.assets.open("models/$name").use { it.readBytes() }

    companion object {
        /** In src/ort (the Gradle build's onnxruntime-android glue), looked up by name so `make apk` builds without it. */
        const val ORT_BACKEND = "dev.dualcam.app.OrtMobileBackend"
    }
}
