using System.Diagnostics.Metrics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;

namespace CacheGen.SampleApi.Tests;

/// <summary>
/// GET /posts/ answers from the cached payload: an ETag from its hash, 304 for a client that has it, and a br/gzip copy
/// compressed once per payload. Real Kestrel, a client that does not decompress by itself.
/// </summary>
public sealed class HttpValidatorTests
{
    [Fact]
    public async Task The_list_sends_an_ETag_and_answers_a_matching_If_None_Match_with_304_and_no_body()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 100);
        using HttpResponseMessage first = await host.Client.GetAsync("/posts/");
        EntityTagHeaderValue etag = first.Headers.ETag!;
        Assert.False(etag.IsWeak);

        using HttpResponseMessage revalidated = await GetAsync(host, ifNoneMatch: etag.Tag);

        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Empty(await revalidated.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, revalidated.Headers.ETag);
        Assert.Contains("Accept-Encoding", revalidated.Headers.Vary);
    }

    [Fact]
    public async Task After_a_write_the_old_ETag_gets_the_new_list_with_a_new_ETag()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 100);
        using HttpResponseMessage first = await host.Client.GetAsync("/posts/");
        string oldTag = first.Headers.ETag!.Tag;

        using HttpResponseMessage update = await host.SendJsonAsync(HttpMethod.Put, "/posts/1", new PostInput("Renamed", "Changed"));
        update.EnsureSuccessStatusCode();
        using HttpResponseMessage after = await GetAsync(host, ifNoneMatch: oldTag);

        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.NotEqual(oldTag, after.Headers.ETag!.Tag);
        Assert.Contains("\"Renamed\"", await after.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("br", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData("gzip, deflate, br", "br")]
    [InlineData("br;q=0, gzip", "gzip")]
    public async Task A_compressed_list_decompresses_to_exactly_the_uncompressed_bytes(string acceptEncoding, string expected)
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 1000);
        using HttpResponseMessage plain = await host.Client.GetAsync("/posts/");
        byte[] identity = await plain.Content.ReadAsByteArrayAsync();

        using HttpResponseMessage compressed = await GetAsync(host, acceptEncoding: acceptEncoding);
        byte[] body = await compressed.Content.ReadAsByteArrayAsync();

        Assert.Equal([expected], compressed.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", compressed.Headers.Vary);
        Assert.Contains("Accept-Encoding", plain.Headers.Vary);
        Assert.True(body.Length < identity.Length / 4, $"{expected}: {body.Length} bytes of {identity.Length}");
        Assert.Equal(identity, Decompress(body, expected));
        Assert.NotEqual(plain.Headers.ETag, compressed.Headers.ETag); // another representation, another strong tag
    }

    [Fact]
    public async Task A_client_that_refuses_every_coding_gets_the_list_uncompressed()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 100);

        using HttpResponseMessage response = await GetAsync(host, acceptEncoding: "br;q=0, gzip;q=0.0");

        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Equal(100, System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement.EnumerateObject().Count());
    }

    [Fact]
    public async Task Each_cached_payload_is_compressed_once_however_many_requests_ask_for_it()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 1000);
        using var compressions = new CompressionCounter();

        await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ => (await GetAsync(host, acceptEncoding: "br")).Dispose()));
        for (int i = 0; i < 10; i++)
            (await GetAsync(host, acceptEncoding: "br")).Dispose();
        Assert.Equal(1, compressions.Count("br"));

        using HttpResponseMessage update = await host.SendJsonAsync(HttpMethod.Put, "/posts/1", new PostInput("Renamed", "Changed"));
        update.EnsureSuccessStatusCode();
        (await GetAsync(host, acceptEncoding: "br")).Dispose();
        Assert.Equal(2, compressions.Count("br")); // a new payload after the eviction: compressed once more
    }

    private static async Task<HttpResponseMessage> GetAsync(SampleApiHost host, string? ifNoneMatch = null, string? acceptEncoding = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/posts/");
        if (ifNoneMatch is not null)
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        if (acceptEncoding is not null)
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        HttpResponseMessage response = await host.Client.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotModified, $"GET /posts/ -> {(int)response.StatusCode}");
        return response;
    }

    private static byte[] Decompress(byte[] body, string coding)
    {
        using var input = new MemoryStream(body);
        using Stream decompressor = coding == "br" ? new BrotliStream(input, CompressionMode.Decompress) : new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        decompressor.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Listens to CacheGen.AspNetCore's compression counter, per coding.</summary>
    private sealed class CompressionCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _byCoding = new();

        public CompressionCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "CacheGen.AspNetCore" && instrument.Name == "cachegen.http.compressions")
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key == "coding")
                        _byCoding.AddOrUpdate((string)tag.Value!, value, (_, sum) => sum + value);
                }
            });
            _listener.Start();
        }

        public long Count(string coding) => _byCoding.GetValueOrDefault(coding);

        public void Dispose() => _listener.Dispose();
    }
}
