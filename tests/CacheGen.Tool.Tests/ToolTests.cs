using System.Text.RegularExpressions;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.Tool.Tests;

/// <summary>
/// The real <c>cachegen</c> process against a real redis-server (password protected) that the real runtime filled,
/// with the settings an app passes (<c>--CacheGen:Redis=...</c>, <c>--CacheGen:KeyPrefix=...</c>).
/// </summary>
public sealed partial class ToolTests : IAsyncLifetime
{
    private const string Password = "tool-test-secret-7f3a";
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private readonly RedisServer _server = RedisServer.Start("--requirepass", Password);
    private ServiceProvider _app = null!;

    private string Redis => _server.Configuration + ",defaultDatabase=1,password=" + Password;

    private string[] Settings => ["--CacheGen:Redis=" + Redis, "--CacheGen:KeyPrefix=example"];

    private HybridCache Cache => _app.GetRequiredService<HybridCache>();

    private static ServiceProvider App(string redis)
    {
        var services = new ServiceCollection();
        services.AddCacheGen(o =>
        {
            o.Redis = redis;
            o.KeyPrefix = "example";
            o.RedisTimeout = TimeSpan.FromSeconds(5);
        });
        return services.BuildServiceProvider();
    }

    public async Task InitializeAsync()
    {
        _app = App(Redis);
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            HybridCacheEntryOptions? options = null;
            while (true)
            {
                // Three posts and a user, as generated code keys and tags them: the region first.
                for (int id = 1; id <= 3; id++)
                    await Cache.GetOrCreateAsync($"{{posts}}:post:{id}", _ => ValueTask.FromResult(new Post(id, $"Title {id}")), options, tags: ["posts"]);
                await Cache.GetOrCreateAsync("{users}:user:1", _ => ValueTask.FromResult("ada"), options, tags: ["users"]);
                if (await RedisHolds(TimeSpan.FromSeconds(5), "example:1:{posts}:post:1", "example:1:{posts}:post:2", "example:1:{posts}:post:3", "example:1:{users}:user:1"))
                    break;
                Assert.True(clock.Elapsed < HangGuard, "the misses' writes never reached Redis");
                // A fill made before the connection was up answers without writing Redis: fill again, past the in-process copy.
                options = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCacheRead };
            }
        }
        catch
        {
            // xunit does not dispose a test whose InitializeAsync threw: its redis-server would outlive the run.
            await DisposeAsync();
            throw;
        }
    }

    // A miss answers before its guarded write lands in Redis: the tool must not be run against a half-written Redis.
    private async Task<bool> RedisHolds(TimeSpan within, params string[] keys)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (_server.Cli(["-a", Password, "--no-auth-warning", "-n", "1", "EXISTS", .. keys]) != keys.Length.ToString())
        {
            if (clock.Elapsed > within)
                return false;
            await Task.Delay(20);
        }
        return true;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _server.Dispose();
    }

    public sealed record Post(int Id, string Title);

    private async Task<(int ExitCode, string Output, string Errors)> Run(params string[] arguments)
    {
        var result = await Cachegen.RunAsync([.. arguments, .. Settings]);
        Assert.DoesNotContain(Password, result.Output + result.Errors);
        return result;
    }

    [GeneratedRegex(@"^(?<region>\S+)\s+(?<generation>\d+)\s+(?<entries>\d+)\s+(?<stale>\d+)\s+(?<tombstones>\d+)\s+(?<bytes>\d+)$", RegexOptions.Multiline)]
    private static partial Regex RegionLine();

    private static Dictionary<string, Match> Regions(string output) =>
        RegionLine().Matches(output).ToDictionary(m => m.Groups["region"].Value);

    [Fact]
    public async Task Regions_lists_each_region_with_its_generation_entries_and_bytes_and_counts_evicted_entries_as_stale()
    {
        var (exitCode, output, errors) = await Run("regions");
        Assert.True(exitCode == 0, errors);
        Dictionary<string, Match> regions = Regions(output);
        Assert.Equal("3", regions["posts"].Groups["entries"].Value);
        Assert.Equal("0", regions["posts"].Groups["stale"].Value);
        Assert.Equal("1", regions["users"].Groups["entries"].Value);
        Assert.Equal(_server.Cli("-a", Password, "--no-auth-warning", "-n", "1", "GET", "example:1:#gen:{posts}"), regions["posts"].Groups["generation"].Value);
        Assert.True(long.Parse(regions["posts"].Groups["bytes"].Value) > 3 * "Title 1".Length);

        await Cache.RemoveByTagAsync("posts");
        (_, output, _) = await Run("regions");
        regions = Regions(output);
        Assert.Equal("0", regions["posts"].Groups["entries"].Value);
        Assert.Equal("3", regions["posts"].Groups["stale"].Value);
        Assert.Equal("1", regions["users"].Groups["entries"].Value);
    }

    [Fact]
    public async Task Show_decodes_the_envelope_and_reports_a_damaged_checksum_and_a_stale_generation()
    {
        var (exitCode, output, errors) = await Run("show", "{posts}:post:2");
        Assert.True(exitCode == 0, errors);
        Assert.Contains("kind         value (format 5)", output);
        Assert.Contains("payload      JSON, 26 bytes, not compressed", output);
        Assert.Matches(@"generations  region posts \d+ \(current\); clear epoch \d+ \(current\)", output);
        Assert.Contains("key hash     matches the key", output);
        Assert.Contains("checksum     ok", output);
        Assert.Matches(@"ttl          \d+(\.\d+)? s \(Redis\)", output);
        Assert.Matches(@"schema hash  [0-9a-f]{16}", output);
        Assert.EndsWith("{\"id\":2,\"title\":\"Title 2\"}\n", output);

        // The Redis key as redis-cli prints it works too. One JSON byte changed in place: the checksum no longer matches.
        _server.Cli("-a", Password, "--no-auth-warning", "-n", "1", "SETRANGE", "example:1:{posts}:post:2", (EnvelopeSize(output) - 3).ToString(), "X");
        await Cache.RemoveByTagAsync("posts");
        (_, output, _) = await Run("show", "example:1:{posts}:post:2");
        Assert.Contains("checksum     MISMATCH", output);
        Assert.Matches(@"region posts \d+ \(stale: now \d+\)", output);
    }

    [Fact]
    public async Task Show_reports_a_compressed_entry_with_its_stored_size_and_its_size_before_compression_and_prints_its_JSON()
    {
        // 500 posts: about 15 KB of JSON, above CompressAboveBytes' 8 KiB default.
        List<Post> posts = [.. Enumerable.Range(1, 500).Select(id => new Post(id, $"Title {id}"))];
        await Cache.GetOrCreateAsync("{posts}:all", _ => ValueTask.FromResult(posts), tags: ["posts"]);
        Assert.True(await RedisHolds(TimeSpan.FromSeconds(5), "example:1:{posts}:all"), "the entry never reached Redis");

        var (exitCode, output, errors) = await Run("show", "{posts}:all");

        Assert.True(exitCode == 0, errors);
        Match payload = Regex.Match(output, @"payload      JSON, (?<before>\d+) bytes before compression, (?<stored>\d+) bytes stored \(LZ4\)");
        Assert.True(payload.Success, output);
        Assert.True(int.Parse(payload.Groups["stored"].Value) * 3 < int.Parse(payload.Groups["before"].Value), payload.Value);
        Assert.Contains("checksum     ok", output);
        Assert.EndsWith("{\"id\":500,\"title\":\"Title 500\"}]\n", output);
    }

    [Fact]
    public async Task Show_finds_the_entries_of_each_shape_of_a_generated_methods_key()
    {
        // Two builds of one method whose value type differs: one entry per shape under the same key.
        var before = new CacheGen.Infrastructure.CachedMethod("Blog.PostService.GetAsync", "posts", null) { Shape = "00000000000000a1" };
        var after = new CacheGen.Infrastructure.CachedMethod("Blog.PostService.GetAsync", "posts", null) { Shape = "00000000000000b2" };
        var methods = (CacheGen.Infrastructure.IMethodCache)Cache;
        await methods.GetOrCreateAsync(before, "{posts}:shaped:1", 0, static (_, _) => ValueTask.FromResult(new Post(1, "before")), null, unless: null, default);
        await methods.GetOrCreateAsync(after, "{posts}:shaped:1", 0, static (_, _) => ValueTask.FromResult("after"), null, unless: null, default);
        string? shown = null;
        for (int attempt = 0; attempt < 50 && shown?.Contains("00000000000000b2") != true; attempt++)
        {
            await Task.Delay(100); // the writes land after the answers
            (_, shown, _) = await Run("show", "{posts}:shaped:1");
        }

        Assert.Contains("shape        00000000000000a1", shown);
        Assert.Contains("shape        00000000000000b2", shown);
        Assert.Contains("{\"id\":1,\"title\":\"before\"}", shown);
        Assert.Contains("\"after\"", shown);
        Assert.Matches(@"generations  region posts \d+ \(current\); key \d+ \(current\); clear epoch \d+ \(current\)", shown);
    }

    // The envelope's size, from the "size" line: the last bytes are the JSON's.
    private static int EnvelopeSize(string showOutput) => int.Parse(Regex.Match(showOutput, @"size\s+(\d+) bytes").Groups[1].Value);

    [Fact]
    public async Task Watch_prints_an_eviction_an_app_instance_makes_as_it_happens()
    {
        using Cachegen watch = Cachegen.Start(["watch", "--count=3", .. Settings]);
        await watch.WaitForOutputAsync("watching evictions on example:1:cachegen:evict");
        await Cache.RemoveByTagAsync("posts");
        await Cache.RemoveAsync("{users}:user:1");
        await Cache.RemoveAsync(["{users}:user:2", "{users}:user:3"]);
        var (exitCode, output, errors) = await watch.WaitAsync();
        Assert.True(exitCode == 0, errors);
        Assert.Matches(@"\d\d:\d\d:\d\d\.\d{3}  tag   posts  \(instance [0-9a-f]{8}\)", output);
        Assert.Contains("key   {users}:user:1", output);
        Assert.Contains("keys  {users}:user:2, {users}:user:3", output);
        Assert.DoesNotContain(Password, output + errors);
    }

    [Fact]
    public async Task Evict_is_the_runtimes_eviction_so_an_app_instance_drops_its_in_process_copy()
    {
        int calls = 0;
        ValueTask<string> Read() => Cache.GetOrCreateAsync("{posts}:post:9", _ => ValueTask.FromResult("call " + Interlocked.Increment(ref calls)), tags: ["posts"]);
        Assert.Equal("call 1", await Read());
        Assert.Equal("call 1", await Read()); // in-process now

        var (exitCode, output, errors) = await Run("evict", "posts");
        Assert.True(exitCode == 0, errors);
        Assert.Matches(@"evicted posts: generation \d+ -> \d+; told the other instances", output);
        // The backplane message reaches the app's instance a moment later: its in-process copy goes, the data call runs again.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await Read() == "call 1")
        {
            Assert.True(clock.Elapsed < HangGuard, "the app kept serving its in-process copy after cachegen evict");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task It_refuses_a_prefix_with_no_CacheGen_data_and_never_prints_the_password()
    {
        var (exitCode, output, errors) = await Cachegen.RunAsync("regions", "--CacheGen:Redis=" + Redis, "--CacheGen:KeyPrefix=other");
        Assert.Equal(3, exitCode);
        Assert.Contains("no CacheGen data under prefix \"other:1:\"", errors);
        Assert.Contains($"127.0.0.1:{_server.Port} db 1", errors);
        Assert.DoesNotContain(Password, output + errors);

        // A wrong password, and a port nobody listens on: the error names the server, never the configuration string.
        (exitCode, output, errors) = await Cachegen.RunAsync("regions", "--redis=" + _server.Configuration + ",password=wrong-" + Password, "--prefix=example");
        Assert.Equal(1, exitCode);
        Assert.DoesNotContain(Password, output + errors);
        Assert.Contains("cannot connect to 127.0.0.1:", errors);
    }
}
