using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using CacheGen.Redis.Tests.Infrastructure;
using K4os.Compression.LZ4;

namespace CacheGen.Redis.Tests;

/// <summary>
/// <see cref="CacheGenOptions.CompressAboveBytes"/> against a real redis-server: what Redis holds for values on each
/// side of the threshold, that every instance reads both forms whatever its own setting, and that a damaged compressed
/// entry is a counted, logged miss.
/// </summary>
public sealed class CompressionTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private const int Threshold = 1024;

    private static void CompressAbove1K(CacheGenOptions options) => options.CompressAboveBytes = Threshold;

    private static List<Post> ManyPosts(int count) =>
        [.. Enumerable.Range(1, count).Select(i => new Post(i, $"Test Post{i}", $"This is the test post {i}"))];

    private static JsonPayload PostsPayload(int count) => JsonPayload.Serialize(ManyPosts(count), PayloadJson.Default.ListPost);

    /// <summary>What Redis holds under the key: the payload format byte, the payload as stored, and its offset.</summary>
    private async Task<(byte Format, byte[] Stored, int PayloadOffset)> StoredAsync(string key)
    {
        byte[] stored = (await redis.Database.StringGetAsync(Entry.RedisKey(key)))!;
        Assert.Equal(EnvelopeKind.Value, Envelope.Parse(stored, out _, out int payloadOffset, out _));
        return (Envelope.GetFormat(stored, payloadOffset), stored, payloadOffset);
    }

    [Fact]
    public async Task A_large_value_is_stored_compressed_and_a_small_one_as_JSON_and_another_instance_reads_both()
    {
        await using var writer = CacheInstance.Create(redis.Configuration, CompressAbove1K);
        await using var reader = CacheInstance.Create(redis.Configuration, CompressAbove1K);
        string large = Entry.UniqueKey(), small = Entry.UniqueKey();
        List<Post> posts = ManyPosts(200);

        await writer.Cache.GetOrCreateAsync(large, _ => ValueTask.FromResult(posts), tags: Entry.Posts);
        await writer.Cache.GetOrCreateAsync(small, _ => ValueTask.FromResult(new Post(1, "small", "c")), tags: Entry.Posts);
        await writer.SettledAsync();

        (byte format, byte[] stored, int offset) = await StoredAsync(large);
        Assert.Equal(PayloadFormat.Lz4, format);
        // The payload in Redis: the uncompressed length, then one LZ4 block of the JSON.
        int before = BinaryPrimitives.ReadInt32LittleEndian(stored.AsSpan(offset));
        Assert.True(stored.Length - offset < before / 3, $"{stored.Length - offset} bytes stored for {before}");
        byte[] json = new byte[before];
        Assert.Equal(before, LZ4Codec.Decode(stored.AsSpan(offset + sizeof(int)), json));
        Assert.Equal(posts, JsonSerializer.Deserialize<List<Post>>(json, JsonSerializerOptions.Web));
        (format, stored, offset) = await StoredAsync(small);
        Assert.Equal(PayloadFormat.Json, format);
        Assert.Equal("{\"id\":1,\"title\":\"small\",\"content\":\"c\"}", Encoding.UTF8.GetString(stored, offset, stored.Length - offset));

        var none = new CountingFactory<List<Post>>(_ => []);
        Assert.Equal(posts, await reader.Cache.GetOrCreateAsync(large, none.Invoke, tags: Entry.Posts));
        Assert.Equal("small", (await reader.Cache.GetOrCreateAsync(small, _ => ValueTask.FromResult(new Post(2, "other", "c")), tags: Entry.Posts)).Title);
        Assert.Equal(0, none.Calls);
        Assert.Empty(reader.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
    }

    [Fact]
    public async Task An_entry_written_compressed_is_read_by_an_instance_with_compression_off_and_the_reverse()
    {
        await using var compressing = CacheInstance.Create(redis.Configuration, CompressAbove1K);
        await using var plain = CacheInstance.Create(redis.Configuration, o => o.CompressAboveBytes = int.MaxValue);
        string byCompressing = Entry.UniqueKey(), byPlain = Entry.UniqueKey();
        List<Post> posts = ManyPosts(300);

        await compressing.Cache.GetOrCreateAsync(byCompressing, _ => ValueTask.FromResult(posts), tags: Entry.Posts);
        await plain.Cache.GetOrCreateAsync(byPlain, _ => ValueTask.FromResult(posts), tags: Entry.Posts);
        await compressing.SettledAsync();
        await plain.SettledAsync();
        Assert.Equal(PayloadFormat.Lz4, (await StoredAsync(byCompressing)).Format);
        Assert.Equal(PayloadFormat.Json, (await StoredAsync(byPlain)).Format);

        var none = new CountingFactory<List<Post>>(_ => []);
        Assert.Equal(posts, await plain.Cache.GetOrCreateAsync(byCompressing, none.Invoke, tags: Entry.Posts));
        Assert.Equal(posts, await compressing.Cache.GetOrCreateAsync(byPlain, none.Invoke, tags: Entry.Posts));
        Assert.Equal(0, none.Calls);
    }

    [Fact]
    public async Task A_compressed_JSON_payload_read_from_Redis_is_served_as_its_uncompressed_bytes()
    {
        await using var writer = CacheInstance.Create(redis.Configuration, CompressAbove1K);
        await using var reader = CacheInstance.Create(redis.Configuration, CompressAbove1K);
        string key = Entry.UniqueKey();
        JsonPayload original = PostsPayload(500);

        await writer.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(original), tags: Entry.Posts);
        await writer.SettledAsync();
        Assert.Equal(PayloadFormat.Lz4, (await StoredAsync(key)).Format);
        JsonPayload fromRedis = await reader.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(PostsPayload(1)), tags: Entry.Posts);
        JsonPayload fromReadersL1 = await reader.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(PostsPayload(1)), tags: Entry.Posts);

        Assert.Equal(original.Utf8Json.ToArray(), fromRedis.Utf8Json.ToArray());
        Assert.Same(fromRedis, fromReadersL1);
    }

    [Fact]
    public async Task An_entry_in_the_format_before_compression_existed_still_reads_back()
    {
        await using var writer = CacheInstance.Create(redis.Configuration, CompressAbove1K);
        await using var reader = CacheInstance.Create(redis.Configuration, CompressAbove1K);
        string key = Entry.UniqueKey();
        List<Post> posts = ManyPosts(100);
        await writer.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(new Post(0, "prime", "c")), tags: Entry.Posts);
        await writer.SettledAsync();

        // A version 4 envelope, as the release before this one wrote it: no payload format byte, JSON after the trailer.
        byte[] current = TestEnvelopes.Value(posts, key, await TestEnvelopes.PostsGenerationsAsync(redis.Database));
        Envelope.Parse(current, out int tagCount, out int payloadOffset, out _);
        int formatAt = payloadOffset - 4 * sizeof(ulong) - 1;
        byte[] version4 = [.. current[..formatAt], .. current[(formatAt + 1)..]];
        version4[0] = Envelope.FormatlessValueVersion;
        await redis.Database.StringSetAsync(Entry.RedisKey(key), version4, TimeSpan.FromMinutes(1));

        var none = new CountingFactory<List<Post>>(_ => []);
        Assert.Equal(posts, await reader.Cache.GetOrCreateAsync(key, none.Invoke, tags: Entry.Posts));
        Assert.Equal(0, none.Calls);
        Assert.Equal(2, tagCount);
    }

    [Theory]
    [InlineData("truncated block", CorruptKinds.Compression)]
    [InlineData("length past MaximumPayloadBytes", CorruptKinds.Compression)]
    [InlineData("changed byte", CorruptKinds.Checksum)]
    public async Task A_damaged_compressed_entry_is_a_counted_logged_miss_and_is_replaced(string damage, string kind)
    {
        await using var writer = CacheInstance.Create(redis.Configuration, CompressAbove1K);
        await using var reader = CacheInstance.Create(redis.Configuration, CompressAbove1K);
        using var metrics = new MetricsRecorder(reader.Hooks.Meter);
        string key = Entry.UniqueKey();
        await writer.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(ManyPosts(200)), tags: Entry.Posts);
        await writer.SettledAsync();
        (byte format, byte[] stored, int offset) = await StoredAsync(key);
        Assert.Equal(PayloadFormat.Lz4, format);
        byte[] damaged = damage switch
        {
            "truncated block" => stored[..^40],
            "length past MaximumPayloadBytes" => WithLength(stored, offset, (1 << 20) + 1),
            // A literal in the middle of the block: it still decompresses, to other bytes than were written.
            _ => WithByte(stored, offset + (stored.Length - offset) / 2),
        };
        await redis.Database.StringSetAsync(Entry.RedisKey(key), damaged, TimeSpan.FromMinutes(1));

        var factory = new CountingFactory<List<Post>>(_ => ManyPosts(2));
        Assert.Equal(2, (await reader.Cache.GetOrCreateAsync(key, factory.Invoke, tags: Entry.Posts)).Count);
        await reader.SettledAsync();

        Assert.Equal(1, factory.Calls);
        Assert.Single(reader.Logs.WithEventId(CacheGenLogEvents.CorruptEntry));
        Assert.Equal(1, metrics.Sum("cachegen.corrupt_entries", "problem=" + kind));
        // The fill replaced the damaged bytes: the writer now reads the fresh value from Redis.
        await using var third = CacheInstance.Create(redis.Configuration, CompressAbove1K);
        Assert.Equal(2, (await third.Cache.GetOrCreateAsync(key, _ => ValueTask.FromResult(ManyPosts(9)), tags: Entry.Posts)).Count);
    }

    private static byte[] WithLength(byte[] stored, int offset, int length)
    {
        byte[] copy = [.. stored];
        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(offset), length);
        return copy;
    }

    private static byte[] WithByte(byte[] stored, int at)
    {
        byte[] copy = [.. stored];
        copy[at] ^= 0x20;
        return copy;
    }
}
