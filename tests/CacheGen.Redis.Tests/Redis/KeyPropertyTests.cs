using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using CacheGen.Redis.Tests.Infrastructure;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace CacheGen.Redis.Tests;

public enum Shade
{
    Red,
    Green,
    Blue,
}

/// <summary>
/// Written as a user would: this project's build generates the wrappers, so the keys below are the ones generated
/// code builds (a default key over a mix of parameter kinds, and a template).
/// </summary>
public sealed partial class KeySpace(HybridCache cache)
{
    private int _coreCalls;

    public int CoreCalls => Volatile.Read(ref _coreCalls);

    [Cached("posts")]
    public partial ValueTask<string> FindAsync(string? a, string? b, int? n, char c, bool? flag, double? ratio, Shade? shade, DateTimeOffset? at,
        CancellationToken cancellationToken = default);
    private ValueTask<string> FindCoreAsync(string? a, string? b, int? n, char c, bool? flag, double? ratio, Shade? shade, DateTimeOffset? at,
        CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _coreCalls);
        return new(new FindArgs(a, b, n, c, flag, ratio, shade, at).Describe());
    }

    [Cached("posts", Key = "post:{slug}")]
    public partial ValueTask<string> BySlugAsync(string? slug);
    private ValueTask<string> BySlugCoreAsync(string? slug)
    {
        Interlocked.Increment(ref _coreCalls);
        return new(new SlugArgs(slug).Describe());
    }

    internal ValueTask<string> CallAsync(object args) => args switch
    {
        FindArgs f => FindAsync(f.A, f.B, f.N, f.C, f.Flag, f.Ratio, f.Shade, f.At),
        SlugArgs s => BySlugAsync(s.Slug),
        _ => throw new ArgumentException("unknown arguments", nameof(args)),
    };
}

internal readonly record struct FindArgs(string? A, string? B, int? N, char C, bool? Flag, double? Ratio, Shade? Shade, DateTimeOffset? At)
{
    /// <summary>A JSON-safe text that tells any two argument lists apart (strings as UTF-16 hex, lone surrogates included).</summary>
    public string Describe() => string.Join(",", KeyPropertyTests.Hex(A), KeyPropertyTests.Hex(B), N?.ToString(CultureInfo.InvariantCulture) ?? "-",
        ((int)C).ToString(CultureInfo.InvariantCulture), Flag?.ToString() ?? "-",
        Ratio is { } r ? BitConverter.DoubleToInt64Bits(r).ToString(CultureInfo.InvariantCulture) : "-",
        Shade is { } s ? ((int)s).ToString(CultureInfo.InvariantCulture) : "-", At?.ToString("O", CultureInfo.InvariantCulture) ?? "-");
}

internal readonly record struct SlugArgs(string? Slug)
{
    public string Describe() => "slug " + KeyPropertyTests.Hex(Slug);
}

/// <summary>
/// Cache keys against hostile arguments: separators, glob and brace characters, control characters, lone surrogates,
/// empty and null strings, 10,000-character strings. Distinct argument lists get distinct generated keys and distinct
/// Redis keys; every Redis key is within the length cap and lives in its region's Redis Cluster slot.
/// Seed and count: CACHEGEN_KEYS_SEED and CACHEGEN_KEYS_TUPLES (default 100,000; the long form runs millions).
/// </summary>
public sealed class KeyPropertyTests(RedisFixture redis, ITestOutputHelper output) : IClassFixture<RedisFixture>
{
    private const string Region = "posts";
    private const string Prefix = "example:1:";
    private const int Cap = RedisKeyLayout.MaximumKeyBytes;

    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("CACHEGEN_KEYS_SEED"), out int seed) ? seed : 20_261_125;
    private static readonly int Tuples = int.TryParse(Environment.GetEnvironmentVariable("CACHEGEN_KEYS_TUPLES"), out int tuples) ? tuples : 100_000;
    private static readonly int RegionSlot = HashSlot(Encoding.UTF8.GetBytes(Region));

    [Fact]
    public void HashSlot_matches_redis_cluster_specification_vectors()
    {
        // The test's own CRC16: vectors from the cluster specification, and from `CLUSTER KEYSLOT` on redis-server 7.
        Assert.Equal(0x31C3, Crc16("123456789"u8));
        Assert.Equal(12739, HashSlot("123456789"u8));
        Assert.Equal(15495, HashSlot("{a}b"u8));
        Assert.Equal(HashSlot("user1000"u8), HashSlot("{user1000}.following"u8));
        Assert.Equal(HashSlot("foo{}{bar}"u8), Crc16("foo{}{bar}"u8) & 16383); // an empty tag: the whole key counts
    }

    [Fact]
    public async Task Random_arguments_give_distinct_keys_and_distinct_redis_keys_within_the_cap_in_the_regions_slot()
    {
        var recorder = new KeyRecorder();
        var space = new KeySpace(recorder);
        var layout = new RedisKeyLayout("example", 1);
        var random = new Random(Seed);
        var owners = new Dictionary<string, object>(StringComparer.Ordinal);
        var redisKeys = new Dictionary<byte[], string>(ByteArrayComparer.Instance);
        var scratch = new byte[64 * 1024];
        int shortened = 0, asText = 0, loneSurrogates = 0, longestText = 0, shortestShortened = int.MaxValue;

        for (int i = 0; i < Tuples; i++)
        {
            object args = NextArgs(random);
            await space.CallAsync(args);
            string key = recorder.LastKey!;
            // Messages are built only on failure: this loop runs 100,000 times.
            void Check(bool ok, Func<string> problem)
            {
                if (!ok)
                    Assert.Fail($"seed {Seed} (CACHEGEN_KEYS_SEED), tuple #{i} {Show(args)}: {problem()}");
            }

            if (owners.TryGetValue(key, out object? owner))
            {
                Check(owner.Equals(args), () => $"has the key of {Show(owner)}: {Show(key)}");
                continue;
            }
            owners.Add(key, args);
            Check(recorder.LastTags is [Region], () => "the tags are not the region");
            Check(key.StartsWith("{" + Region + "}:", StringComparison.Ordinal), () => $"the key {Show(key)} does not start with the region's hash tag");

            foreach ((string kind, RedisKey redisKey) in new[] { ("entry", layout.Entry(key)), ("lease", layout.Lease(key)) })
            {
                byte[] bytes = (byte[])redisKey!;
                string textPrefix = kind == "entry" ? Prefix : Prefix + "#lease:";
                Check(bytes.Length <= Cap, () => $"the {kind} key has {bytes.Length} bytes");
                Check(HashSlot(bytes) == RegionSlot, () => $"the {kind} key {Show(bytes)} is in slot {HashSlot(bytes)}, not {RegionSlot}");
                Check(redisKeys.TryAdd(bytes, kind + " " + key), () => $"its {kind} key {Show(bytes)} is also the Redis key of {Show(redisKeys[bytes])}");

                int utf8Length = WellFormedUtf8Length(textPrefix + key, ref scratch);
                if (utf8Length is >= 0 and <= Cap)
                {
                    // Short, well-formed keys keep the documented layout: prefix + key as UTF-8 text.
                    Check(Encoding.UTF8.GetBytes(textPrefix + key).AsSpan().SequenceEqual(bytes), () => $"the {kind} key {Show(bytes)} is not the key as text");
                    asText++;
                    longestText = Math.Max(longestText, utf8Length);
                }
                else
                {
                    // A readable head with the region's hash tag, the marker, then 64 hex digits of the hash.
                    Check(bytes.AsSpan().StartsWith(Encoding.UTF8.GetBytes(textPrefix + "{" + Region + "}:")), () => $"{Show(bytes)} lost its head");
                    Check(bytes[^65] == RedisKeyLayout.HashedMarker && bytes.AsSpan(bytes.Length - 64).IndexOfAnyExcept("0123456789abcdef"u8) < 0,
                        () => $"{Show(bytes)} does not end in the marker and a hex hash");
                    shortened++;
                    if (utf8Length < 0)
                        loneSurrogates++;
                    else
                        shortestShortened = Math.Min(shortestShortened, utf8Length);
                }
            }
        }

        output.WriteLine($"seed {Seed}: {Tuples} tuples, {owners.Count} distinct keys, {redisKeys.Count} Redis keys ({asText} as text, {shortened} shortened, "
            + $"{loneSurrogates} of them for lone surrogates), longest text key {longestText} bytes, shortest shortened key's text {shortestShortened} bytes");
        // The run covered what it claims to: both forms, lone surrogates, and keys on both sides of the cap.
        Assert.True(owners.Count > Tuples / 2, $"only {owners.Count} distinct keys out of {Tuples}");
        Assert.True(shortened > Tuples / 100 && asText > Tuples / 2, $"shortened {shortened}, as text {asText}");
        Assert.True(loneSurrogates > Tuples / 100, $"lone surrogates {loneSurrogates}");
        Assert.True(longestText > Cap - 40 && shortestShortened < Cap + 40, $"longest text key {longestText}, shortest shortened {shortestShortened}");
    }

    [Fact]
    public async Task Redis_itself_puts_every_shortened_key_in_the_regions_slot()
    {
        // CLUSTER KEYSLOT needs cluster support; a lone cluster-enabled node answers it without any slots assigned.
        using RedisServer node = RedisServer.Start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf");
        var recorder = new KeyRecorder();
        var space = new KeySpace(recorder);
        var layout = new RedisKeyLayout("example", 1);
        var random = new Random(Seed);
        var sample = new List<byte[]>();
        int asText = 0;
        for (int i = 0; i < Tuples / 10; i++)
        {
            await space.CallAsync(NextArgs(random));
            byte[] entry = (byte[])layout.Entry(recorder.LastKey!)!;
            byte[] lease = (byte[])layout.Lease(recorder.LastKey!)!;
            bool shortened = entry.Contains(RedisKeyLayout.HashedMarker);
            if (shortened || asText++ % 20 == 0)
                sample.AddRange([entry, lease]);
        }
        sample.Add((byte[])layout.Generation(Region)!);
        sample.Add((byte[])layout.Generation(Region + new string('x', 2000))!);
        sample.Add((byte[])layout.Generation("\uD800")!);

        int[] slots = await ClusterKeySlotsAsync(node.Port, sample);
        for (int i = 0; i < sample.Count; i++)
        {
            Assert.True(slots[i] == HashSlot(sample[i]), $"seed {Seed}: redis-server puts {Show(sample[i])} in slot {slots[i]}, the test computes {HashSlot(sample[i])}");
            if (i < sample.Count - 2)
                Assert.True(slots[i] == RegionSlot, $"seed {Seed}: {Show(sample[i])} is in slot {slots[i]}, its region's is {RegionSlot}");
        }
        Assert.True(sample.Count(k => k.Contains(RedisKeyLayout.HashedMarker)) > 100, "too few shortened keys in the sample");
    }

    [Fact]
    public async Task Odd_and_long_arguments_round_trip_through_redis_each_to_its_own_value()
    {
        await using CacheInstance writer = CacheInstance.Create(redis.Configuration, o => o.DistributedStampedeProtection = true);
        await using CacheInstance reader = CacheInstance.Create(redis.Configuration);
        var writing = new KeySpace(writer.Cache);
        var reading = new KeySpace(reader.Cache);
        var random = new Random(Seed);
        var samples = new List<object>();
        while (samples.Count < 400)
        {
            object args = NextArgs(random);
            // Mostly the keys that get shortened: long or lone-surrogate arguments.
            if (args is FindArgs f && samples.Count % 2 == 0)
                args = f with { A = random.Next(2) == 0 ? LongString(random) : NearCapString(random) + "\uDC00" };
            samples.Add(args);
        }

        foreach (object args in samples)
            Assert.Equal(Describe(args), await writing.CallAsync(args));
        // The reader finds the writer's entries in Redis, and the writer's leases are released, once its writes landed.
        await writer.SettledAsync();
        foreach (object args in samples)
            Assert.True(Describe(args) == await reading.CallAsync(args), $"seed {Seed}: {Show(args)} read another entry's value from Redis");
        Assert.Equal(0, reading.CoreCalls);
        Assert.DoesNotContain(writer.Logs.Lines, l => l.Level >= LogLevel.Warning);
        Assert.DoesNotContain(reader.Logs.Lines, l => l.Level >= LogLevel.Warning);

        IServer server = redis.Database.Multiplexer.GetServer(redis.Server.Configuration);
        byte[][] keys = server.Keys(database: 1, pattern: Prefix + "*", pageSize: 1000).Select(k => (byte[])k!).ToArray();
        Assert.All(keys, k => Assert.True(k.Length <= Cap, $"{Show(k)} has {k.Length} bytes"));
        Assert.True(keys.Count(k => k.Contains(RedisKeyLayout.HashedMarker)) >= 150, "the long keys were not shortened");
        Assert.DoesNotContain(keys, k => k.AsSpan().StartsWith(Encoding.UTF8.GetBytes(Prefix + "#lease:"))); // every lease released
    }

    [Theory]
    [InlineData("posts")]
    [InlineData("a}b")]
    [InlineData("{a")]
    [InlineData("a}")]
    [InlineData("{}")]
    [InlineData(" ")]
    [InlineData("\uD800")]
    [InlineData("p|q:*?[]\\")]
    public void Generation_SharesTheSlotOfItsEntries_WhateverTheTag(string tag)
    {
        // Tags given to the cache directly are not checked for braces: the entry keys of a tag start with {tag}, and
        // Redis takes the text up to the first '}' in both, so a brace inside moves both keys alike. (Only a tag that
        // starts with '}' would leave both without a hash tag; generated code cannot make one, see CG0010.)
        var layout = new RedisKeyLayout("example", 1);
        byte[] generation = (byte[])layout.Generation(tag)!;
        foreach (string key in new[] { "{" + tag + "}:post:1", "{" + tag + "}:" + new string('x', 3000) })
        {
            Assert.Equal(HashSlot((byte[])layout.Entry(key)!), HashSlot(generation));
            Assert.Equal(HashSlot((byte[])layout.Lease(key)!), HashSlot(generation));
        }
    }

    [Fact]
    public void Generations_of_tags_that_utf8_would_merge_stay_apart_and_long_tags_keep_their_slot()
    {
        var layout = new RedisKeyLayout("example", 1);
        // Encoding.UTF8 writes every lone surrogate as U+FFFD: without care these three would share one counter.
        byte[][] generations = new[] { "\uD800", "\uDC00", "\uFFFD" }.Select(t => (byte[])layout.Generation(t)!).ToArray();
        Assert.Equal(3, generations.Distinct(ByteArrayComparer.Instance).Count());
        Assert.Equal("example:1:#gen:{posts}", (string?)layout.Generation("posts"));

        // A tag longer than the cap cannot be both kept whole and capped: the slot wins, so the key is as long as the
        // tag needs, and the rest of the key still goes into the hash.
        string longTag = new('t', 5000);
        byte[] generation = (byte[])layout.Generation(longTag)!;
        byte[] entry = (byte[])layout.Entry("{" + longTag + "}:" + new string('x', 5000))!;
        Assert.Equal(HashSlot(Encoding.UTF8.GetBytes(longTag)), HashSlot(generation));
        Assert.Equal(HashSlot(generation), HashSlot(entry));
        Assert.True(entry.Length < longTag.Length + 100, $"the entry key has {entry.Length} bytes");
        Assert.NotEqual(entry, (byte[])layout.Entry("{" + longTag + "}:" + new string('x', 4999) + "y")!);

        // A hash tag that comes late in a long key: the head is then the hash tag alone, and the key stays within the cap.
        string late = new string('x', 1500) + "{posts}:" + new string('y', 100);
        byte[] lateEntry = (byte[])layout.Entry(late)!;
        Assert.True(lateEntry.Length <= Cap, $"{lateEntry.Length} bytes");
        Assert.Equal(RegionSlot, HashSlot(lateEntry));
        Assert.Equal([.. Encoding.UTF8.GetBytes(Prefix + "{posts}"), RedisKeyLayout.HashedMarker], lateEntry.Take(Prefix.Length + 8));
    }

    [Fact]
    public void Short_keys_keep_the_documented_layout()
    {
        var layout = new RedisKeyLayout("example", 1);
        Assert.Equal("example:1:{posts}:post:5", (string?)layout.Entry("{posts}:post:5"));
        Assert.Equal("example:1:#lease:{posts}:post:5", (string?)layout.Lease("{posts}:post:5"));
        string atTheCap = "{posts}:" + new string('é', (Cap - Prefix.Length - 8) / 2);
        Assert.Equal(Prefix + atTheCap, (string?)layout.Entry(atTheCap));
        Assert.Equal(Cap, ((byte[])layout.Entry(atTheCap)!).Length);
        Assert.Contains(RedisKeyLayout.HashedMarker, (byte[])layout.Entry(atTheCap + "x")!);
        // UTF-8 would write all three as EF BF BD: the lone surrogates are shortened, and so kept apart.
        byte[][] entries = new[] { "{posts}:\uD800", "{posts}:\uDC00", "{posts}:\uFFFD" }.Select(k => (byte[])layout.Entry(k)!).ToArray();
        Assert.Equal(3, entries.Distinct(ByteArrayComparer.Instance).Count());
        Assert.Contains(RedisKeyLayout.HashedMarker, entries[0]);
        Assert.Equal(Prefix + "{posts}:\uFFFD", (string?)layout.Entry("{posts}:\uFFFD"));
    }

    // ---- arguments ---------------------------------------------------------------------------------------------

    private static readonly string[] Pieces =
    [
        "|", "\\", ":", "*", "?", "[", "]", "{", "}", "{}", "}{", "\\|", "\\0", "\\\\", "|\\", "||",
        "\0", "\u0001", "\t", "\n", "\r", "\u001b", "\u007f", "\u0085", "\u2028",
        "\uD800", "\uDBFF", "\uDC00", "\uDFFF", "\uFFFD", "\uD83D\uDE00", "é", "\u00FF",
        "a", "b", "0", "1", " ", "null", "posts", "{posts}", "example:1:",
    ];

    private static readonly char[] Chars = ['a', '0', '|', '\\', ':', '{', '}', '*', '\0', '\u001f', '\uD800', '\uDC00', '\uFFFD', 'é'];
    private static readonly int[] Numbers = [0, 1, -1, 7, 10, 42, int.MaxValue, int.MinValue];
    private static readonly double[] Ratios = [0.0, -0.0, 1.5, -1.5, 0.1, 1.0 / 3, 1e-300, 1e300, double.Epsilon, double.NaN, double.PositiveInfinity, double.NegativeInfinity];
    private static readonly Shade[] Shades = [Shade.Red, Shade.Green, Shade.Blue, (Shade)7, (Shade)(-1)];
    private static readonly TimeSpan[] Offsets = [TimeSpan.Zero, TimeSpan.FromHours(1), TimeSpan.FromHours(-5), new TimeSpan(5, 45, 0)];

    // One 10,000-character base that long arguments vary in a few places, so their keys differ only deep inside.
    private static readonly string LongBase = BuildLongBase();

    private static object NextArgs(Random random)
    {
        if (random.Next(10) == 0)
            return new SlugArgs(NextString(random));
        // The other parameters are often at one value, so that many tuples differ only in their strings.
        bool vary = random.Next(2) == 0;
        return new FindArgs(
            NextString(random),
            NextString(random),
            !vary || random.Next(6) == 0 ? null : random.Next(3) == 0 ? random.Next(-100, 100) : Numbers[random.Next(Numbers.Length)],
            !vary ? 'a' : Chars[random.Next(Chars.Length)],
            !vary ? null : random.Next(3) switch { 0 => null, 1 => false, _ => true },
            !vary || random.Next(6) == 0 ? null : Ratios[random.Next(Ratios.Length)],
            !vary || random.Next(6) == 0 ? null : Shades[random.Next(Shades.Length)],
            !vary || random.Next(6) == 0 ? null : new DateTimeOffset(2026, 11, 25, 12, 0, 0, Offsets[random.Next(Offsets.Length)]).AddTicks(random.Next(3)));
    }

    private static string? NextString(Random random)
    {
        int roll = random.Next(1000);
        if (roll < 60)
            return null;
        if (roll < 120)
            return "";
        if (roll < 130)
            return LongString(random);
        if (roll < 150)
            return NearCapString(random);
        int count = roll < 600 ? 1 : roll < 850 ? 2 : roll < 950 ? 3 : 4;
        var text = new StringBuilder();
        for (int i = 0; i < count; i++)
            text.Append(Pieces[random.Next(Pieces.Length)]);
        return text.ToString();
    }

    /// <summary>10,000 characters: the shared base with one to three characters changed, near either end or anywhere.</summary>
    private static string LongString(Random random)
    {
        char[] text = LongBase.ToCharArray();
        int changes = random.Next(1, 4);
        for (int i = 0; i < changes; i++)
        {
            int position = random.Next(3) switch
            {
                0 => random.Next(64),
                1 => text.Length - 1 - random.Next(64),
                _ => random.Next(text.Length),
            };
            text[position] = Chars[random.Next(Chars.Length)];
        }
        return new string(text);
    }

    /// <summary>A string that puts the key within a few hundred bytes either side of the cap, mostly ASCII.</summary>
    private static string NearCapString(Random random)
    {
        int length = random.Next(700, 1000);
        var text = new StringBuilder(length + 2);
        while (text.Length < length)
        {
            int roll = random.Next(100);
            text.Append(roll < 90 ? "x" : roll < 95 ? "é" : roll < 98 ? "\uD83D\uDE00" : Pieces[random.Next(Pieces.Length)]);
        }
        return text.ToString();
    }

    private static string BuildLongBase()
    {
        var random = new Random(1);
        var text = new StringBuilder(10_100);
        while (text.Length < 10_000)
            text.Append(Pieces[random.Next(Pieces.Length)]);
        return text.ToString(0, 10_000);
    }

    private static string Describe(object args) => args switch
    {
        FindArgs f => f.Describe(),
        SlugArgs s => s.Describe(),
        _ => throw new ArgumentException("unknown arguments", nameof(args)),
    };

    // ---- Redis Cluster slots -----------------------------------------------------------------------------------

    /// <summary>The Redis Cluster slot of a key: CRC16 (XMODEM) of its hash tag (first '{' to the next '}', if not empty), else of the whole key.</summary>
    internal static int HashSlot(ReadOnlySpan<byte> key)
    {
        int open = key.IndexOf((byte)'{');
        if (open >= 0)
        {
            int length = key[(open + 1)..].IndexOf((byte)'}');
            if (length > 0)
                key = key.Slice(open + 1, length);
        }
        return Crc16(key) & 16383;
    }

    private static int Crc16(ReadOnlySpan<byte> data)
    {
        int crc = 0;
        foreach (byte b in data)
        {
            crc ^= b << 8;
            for (int bit = 0; bit < 8; bit++)
                crc = ((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1) & 0xFFFF;
        }
        return crc;
    }

    /// <summary>Asks a real redis-server for each key's slot, over plain RESP so the key bytes go through untouched.</summary>
    private static async Task<int[]> ClusterKeySlotsAsync(int port, IReadOnlyList<byte[]> keys)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        using NetworkStream stream = client.GetStream();
        var reader = new StreamReader(stream, Encoding.ASCII);
        var slots = new int[keys.Count];
        const int Batch = 200;
        for (int start = 0; start < keys.Count; start += Batch)
        {
            var request = new MemoryStream();
            int end = Math.Min(keys.Count, start + Batch);
            for (int i = start; i < end; i++)
            {
                request.Write(Encoding.ASCII.GetBytes($"*3\r\n$7\r\nCLUSTER\r\n$7\r\nKEYSLOT\r\n${keys[i].Length}\r\n"));
                request.Write(keys[i]);
                request.Write("\r\n"u8);
            }
            await stream.WriteAsync(request.ToArray());
            for (int i = start; i < end; i++)
            {
                string reply = await reader.ReadLineAsync() ?? throw new IOException("redis-server closed the connection");
                Assert.True(reply.StartsWith(':'), $"CLUSTER KEYSLOT answered {reply}");
                slots[i] = int.Parse(reply.AsSpan(1), CultureInfo.InvariantCulture);
            }
        }
        return slots;
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    /// <summary>The UTF-8 length of <paramref name="text"/>, or -1 if it holds a lone surrogate.</summary>
    private static int WellFormedUtf8Length(string text, ref byte[] scratch)
    {
        if (scratch.Length < text.Length * 3)
            scratch = new byte[text.Length * 3];
        return Utf8.FromUtf16(text, scratch, out _, out int written, replaceInvalidSequences: false) == OperationStatus.Done ? written : -1;
    }

    internal static string Hex(string? text) => text is null ? "null" : "s" + Convert.ToHexString(MemoryMarshal.AsBytes(text.AsSpan()));

    private static string Show(object? value) => value switch
    {
        null => "null",
        string text => Quote(text),
        byte[] bytes => Quote(Encoding.Latin1.GetString(bytes)),
        FindArgs f => $"({Quote(f.A)}, {Quote(f.B)}, {f.N}, {Quote(f.C.ToString())}, {f.Flag}, {f.Ratio?.ToString("R", CultureInfo.InvariantCulture)}, {f.Shade}, {f.At:O})",
        SlugArgs s => $"(slug {Quote(s.Slug)})",
        _ => value.ToString() ?? "",
    };

    private static string Quote(string? text)
    {
        if (text is null)
            return "null";
        var shown = new StringBuilder("\"");
        foreach (char c in text.Length > 120 ? text[..60] : text)
            shown.Append(c is >= ' ' and < '\u007f' ? c.ToString() : $"\\u{(int)c:x4}");
        if (text.Length > 120)
            shown.Append($"...({text.Length} chars)...");
        return shown.Append('"').ToString();
    }

    /// <summary>A HybridCache that only records the key and tags generated code passes, and answers default.</summary>
    private sealed class KeyRecorder : HybridCache
    {
        public string? LastKey { get; private set; }

        public string[]? LastTags { get; private set; }

        public override ValueTask<T> GetOrCreateAsync<TState, T>(string key, TState state, Func<TState, CancellationToken, ValueTask<T>> factory,
            HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
        {
            LastKey = key;
            LastTags = tags?.ToArray();
            return new ValueTask<T>(default(T)!);
        }

        public override ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null,
            CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public override ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] bytes)
        {
            var hash = new HashCode();
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }
    }
}
