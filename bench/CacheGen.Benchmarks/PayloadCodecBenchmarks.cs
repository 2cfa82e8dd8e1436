using System.IO.Compression;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using K4os.Compression.LZ4;

namespace CacheGen.Benchmarks;

/// <summary>
/// How CompressAboveBytes' codec was chosen: each candidate compressing and decompressing the sample's <c>GET /posts/</c>
/// body (1000 posts, about 82 KB of JSON). An L2 hit pays the decompression, a fill the compression; the stored size is
/// printed once per codec at setup. Run: <c>dotnet run -c Release -- --filter '*PayloadCodec*' --job short</c>.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PayloadCodecBenchmarks
{
    private byte[] _json = [];
    private byte[] _lz4 = [], _zstd = [], _brotli = [], _zlib = [];
    private readonly ZstdSharp.Compressor _zstdCompressor = new(level: 1);
    private readonly ZstdSharp.Decompressor _zstdDecompressor = new();

    /// <summary>The posts list as the sample serves it: <c>{"post_1": {"id": 1, "title": ..., "content": ...}, ...}</c>.</summary>
    public static byte[] PostListJson(int count)
    {
        var json = new StringBuilder("{");
        for (int id = 1; id <= count; id++)
            json.Append(id == 1 ? "" : ",").Append($"\"post_{id}\":{{\"id\":{id},\"title\":\"Test Post{id}\",\"content\":\"This is the test post {id}\"}}");
        return Encoding.UTF8.GetBytes(json.Append('}').ToString());
    }

    [GlobalSetup]
    public void Setup()
    {
        _json = PostListJson(1000);
        _lz4 = Lz4Compress();
        _zstd = ZstdCompress();
        _brotli = BrotliCompress();
        _zlib = ZLibCompress();
        Console.WriteLine($"// payload {_json.Length} bytes; lz4 {_lz4.Length}, zstd(1) {_zstd.Length}, brotli(1) {_brotli.Length}, zlib(fastest) {_zlib.Length}");
    }

    [Benchmark(Baseline = true), BenchmarkCategory("decompress")]
    public int Lz4Decompress()
    {
        byte[] target = new byte[_json.Length];
        return LZ4Codec.Decode(_lz4, target);
    }

    [Benchmark, BenchmarkCategory("decompress")]
    public int ZstdDecompress() => _zstdDecompressor.Unwrap(_zstd).Length;

    [Benchmark, BenchmarkCategory("decompress")]
    public int BrotliDecompress()
    {
        byte[] target = new byte[_json.Length];
        BrotliDecoder.TryDecompress(_brotli, target, out int written);
        return written;
    }

    [Benchmark, BenchmarkCategory("decompress")]
    public int ZLibDecompress()
    {
        using var input = new ZLibStream(new MemoryStream(_zlib), CompressionMode.Decompress);
        byte[] target = new byte[_json.Length];
        input.ReadExactly(target);
        return target.Length;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("compress")]
    public byte[] Lz4Compress()
    {
        byte[] target = new byte[LZ4Codec.MaximumOutputSize(_json.Length)];
        return target[..LZ4Codec.Encode(_json, target)];
    }

    [Benchmark, BenchmarkCategory("compress")]
    public byte[] ZstdCompress() => _zstdCompressor.Wrap(_json).ToArray();

    [Benchmark, BenchmarkCategory("compress")]
    public byte[] BrotliCompress()
    {
        byte[] target = new byte[BrotliEncoder.GetMaxCompressedLength(_json.Length)];
        BrotliEncoder.TryCompress(_json, target, out int written, quality: 1, window: 22);
        return target[..written];
    }

    [Benchmark, BenchmarkCategory("compress")]
    public byte[] ZLibCompress()
    {
        var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Fastest))
            zlib.Write(_json);
        return output.ToArray();
    }
}
