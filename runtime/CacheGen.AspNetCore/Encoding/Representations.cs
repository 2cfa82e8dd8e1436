using System.Diagnostics.Metrics;
using System.IO.Compression;
using System.Runtime.CompilerServices;

namespace CacheGen.AspNetCore.Encoding;

/// <summary>
/// A payload's representations, kept as long as the payload instance lives. A cache hit hands out the same instance,
/// so the entity tags are formatted once and each compressed copy is made once, on the first request that asks for
/// it, for every later hit. Each coding is a different representation, so it has its own strong tag (<c>"hash"</c>,
/// <c>"hash-br"</c>, <c>"hash-gzip"</c>).
/// </summary>
internal sealed class Representations
{
    private static readonly Meter s_meter = new("CacheGen.AspNetCore");
    private static readonly Counter<long> s_compressions = s_meter.CreateCounter<long>(
        "cachegen.http.compressions", unit: "{copy}", description: "Compressed copies made of cached JSON payloads (once per payload and coding).");

    private static readonly ConditionalWeakTable<JsonPayload, Representations> s_byPayload = [];

    private readonly Representation _identity;
    // Lazy's default mode compresses once however many requests arrive together; null: compressing did not help.
    private readonly Lazy<Representation?> _brotli;
    private readonly Lazy<Representation?> _gzip;

    private Representations(JsonPayload payload)
    {
        string hash = payload.Hash;
        _identity = new Representation(null, payload.Utf8Json, "\"" + hash + "\"");
        _brotli = new(() => Compress(payload, "br", "\"" + hash + "-br\"", static s => new BrotliStream(s, CompressionLevel.Optimal, leaveOpen: true)));
        _gzip = new(() => Compress(payload, "gzip", "\"" + hash + "-gzip\"", static s => new GZipStream(s, CompressionLevel.Optimal, leaveOpen: true)));
    }

    public static Representations Of(JsonPayload payload) => s_byPayload.GetValue(payload, static p => new Representations(p));

    /// <summary>The representation to send for <paramref name="coding"/>: the payload itself when compression does not make it smaller.</summary>
    public Representation For(ContentCoding coding) => coding switch
    {
        ContentCoding.Brotli => _brotli.Value ?? _identity,
        ContentCoding.Gzip => _gzip.Value ?? _identity,
        _ => _identity,
    };

    private static Representation? Compress(JsonPayload payload, string coding, string entityTag, Func<Stream, Stream> compressor)
    {
        var output = new MemoryStream(payload.Length / 4 + 64);
        using (Stream stream = compressor(output))
            stream.Write(payload.Utf8Json.Span);
        s_compressions.Add(1, new KeyValuePair<string, object?>("coding", coding));
        return output.Length < payload.Length ? new Representation(coding, output.ToArray(), entityTag) : null;
    }
}
