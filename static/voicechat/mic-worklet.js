// Runs on the audio thread: downsample the microphone to 16 kHz mono PCM16,
// post 20 ms frames (320 samples, 640 bytes) and the frame's RMS level.
class MicDownsampler extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / 16000;
    this.pos = 0;          // fractional read position into the input stream
    this.frame = new Int16Array(320);
    this.filled = 0;
    this.prev = 0;         // last input sample of the previous block, for interpolation
  }

  process(inputs) {
    const channels = inputs[0];
    if (!channels || !channels.length) return true;
    const n = channels[0].length;
    const mono = new Float32Array(n);
    for (const ch of channels) for (let i = 0; i < n; i++) mono[i] += ch[i] / channels.length;
    // Linear interpolation between input samples; a light average first (anti-alias).
    while (this.pos < n) {
      const i = Math.floor(this.pos), t = this.pos - i;
      const a = i === 0 ? this.prev : mono[i - 1], b = mono[i];
      let s = a + (b - a) * t;
      s = Math.max(-1, Math.min(1, s));
      this.frame[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      if (this.filled === this.frame.length) {
        let sum = 0;
        for (const v of this.frame) sum += (v / 32768) ** 2;
        const out = this.frame.slice(0);
        this.port.postMessage({ pcm: out.buffer, level: Math.sqrt(sum / out.length) }, [out.buffer]);
        this.filled = 0;
      }
      this.pos += this.ratio;
    }
    this.pos -= n;
    this.prev = mono[n - 1];
    return true;
  }
}
registerProcessor("mic-downsampler", MicDownsampler);
