// Pure Kotlin: nothing from Android, so the same tests run in Android Studio, in Gradle and in `make test`.
plugins {
    id("org.jetbrains.kotlin.jvm")
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    testImplementation("junit:junit:4.13.2")
}

tasks.test {
    // The shipped models and their manifest, which the tests read and checksum.
    systemProperty("dualcam.models", rootProject.file("../runtime/models").absolutePath)
}
