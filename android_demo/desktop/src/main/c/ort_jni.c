/* The JNI bridge that lets the Kotlin core run exported models on the desktop JVM: no onnxruntime Java jar
 * can be had here, but the onnxruntime Python wheel ships libonnxruntime.so with its C API. The session
 * options are the Python runtime's (dualcam.runtime.session.TileModel), so both run the same kernels. */
#include <jni.h>
#include <stdio.h>

#include <onnxruntime_c_api.h>

static const OrtApi *ort;
static OrtEnv *environment;

/* Turns a failed status into a Java RuntimeException; returns 1 if it failed. */
static int failed(JNIEnv *jni, OrtStatus *status) {
    if (status == NULL) return 0;
    char message[1024];
    snprintf(message, sizeof message, "onnxruntime: %s", ort->GetErrorMessage(status));
    ort->ReleaseStatus(status);
    (*jni)->ThrowNew(jni, (*jni)->FindClass(jni, "java/lang/RuntimeException"), message);
    return 1;
}

JNIEXPORT jstring JNICALL Java_dev_dualcam_desktop_NativeOrtBackend_version(JNIEnv *jni, jclass cls) {
    return (*jni)->NewStringUTF(jni, OrtGetApiBase()->GetVersionString());
}

JNIEXPORT jlong JNICALL Java_dev_dualcam_desktop_NativeOrtBackend_open(JNIEnv *jni, jclass cls, jstring path,
                                                                       jint threads, jboolean arena) {
    if (ort == NULL) {
        ort = OrtGetApiBase()->GetApi(ORT_API_VERSION);
        if (ort == NULL) {
            (*jni)->ThrowNew(jni, (*jni)->FindClass(jni, "java/lang/RuntimeException"),
                             "onnxruntime: this library is older than the C API header the bridge was built with");
            return 0;
        }
    }
    if (environment == NULL && failed(jni, ort->CreateEnv(ORT_LOGGING_LEVEL_WARNING, "dualcam", &environment))) return 0;
    OrtSessionOptions *options;
    if (failed(jni, ort->CreateSessionOptions(&options))) return 0;
    OrtStatus *status = threads > 0 ? ort->SetIntraOpNumThreads(options, threads) : NULL;
    if (status == NULL && !arena) status = ort->DisableCpuMemArena(options);
    if (status == NULL && !arena) status = ort->DisableMemPattern(options);
    OrtSession *session = NULL;
    if (status == NULL) {
        const char *file = (*jni)->GetStringUTFChars(jni, path, NULL);
        status = ort->CreateSession(environment, file, options, &session);
        (*jni)->ReleaseStringUTFChars(jni, path, file);
    }
    ort->ReleaseSessionOptions(options);
    return failed(jni, status) ? 0 : (jlong)session;
}

/* One tile: NCHW float32 inputs mono_y (1,1,h,w), ref_y (1,1,h,w+d), ref_cbcr (1,2,h,w+d) -> cbcr (1,2,h,w). */
JNIEXPORT void JNICALL Java_dev_dualcam_desktop_NativeOrtBackend_run(JNIEnv *jni, jclass cls, jlong handle,
                                                                     jfloatArray mono, jfloatArray refY, jfloatArray refCbcr,
                                                                     jint h, jint w, jint d, jfloatArray result) {
    const char *input_names[] = {"mono_y", "ref_y", "ref_cbcr"};
    const char *output_names[] = {"cbcr"};
    const int64_t shapes[3][4] = {{1, 1, h, w}, {1, 1, h, w + d}, {1, 2, h, w + d}};
    jfloatArray arrays[3] = {mono, refY, refCbcr};
    jfloat *data[3] = {NULL, NULL, NULL};
    OrtValue *inputs[3] = {NULL, NULL, NULL};
    OrtValue *output = NULL;
    OrtMemoryInfo *memory;
    if (failed(jni, ort->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &memory))) return;
    OrtStatus *status = NULL;
    for (int i = 0; i < 3 && status == NULL; i++) {
        data[i] = (*jni)->GetFloatArrayElements(jni, arrays[i], NULL);
        size_t count = (size_t)shapes[i][1] * shapes[i][2] * shapes[i][3];
        status = ort->CreateTensorWithDataAsOrtValue(memory, data[i], count * sizeof(float), shapes[i], 4,
                                                     ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &inputs[i]);
    }
    if (status == NULL)
        status = ort->Run((OrtSession *)handle, NULL, input_names, (const OrtValue *const *)inputs, 3, output_names, 1, &output);
    float *cbcr = NULL;
    if (status == NULL) status = ort->GetTensorMutableData(output, (void **)&cbcr);
    if (status == NULL) (*jni)->SetFloatArrayRegion(jni, result, 0, 2 * h * w, cbcr);
    for (int i = 0; i < 3; i++) {
        if (inputs[i] != NULL) ort->ReleaseValue(inputs[i]);
        if (data[i] != NULL) (*jni)->ReleaseFloatArrayElements(jni, arrays[i], data[i], JNI_ABORT);
    }
    if (output != NULL) ort->ReleaseValue(output);
    ort->ReleaseMemoryInfo(memory);
    failed(jni, status);
}

JNIEXPORT void JNICALL Java_dev_dualcam_desktop_NativeOrtBackend_close(JNIEnv *jni, jclass cls, jlong handle) {
    ort->ReleaseSession((OrtSession *)handle);
}
