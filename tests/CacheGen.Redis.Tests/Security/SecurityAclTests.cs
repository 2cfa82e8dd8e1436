using System.Diagnostics;
using CacheGen.Redis.Tests.Infrastructure;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace CacheGen.Redis.Tests;

/// <summary>
/// CacheGen under a Redis ACL user that may touch only its application's keys and eviction channel, with only the
/// commands CacheGen and StackExchange.Redis need (the line in the README's Security section). A second
/// application's user is shut out of the first one's keys and channel.
/// </summary>
public sealed class SecurityAclTests : IDisposable
{
    private const string AppPassword = "app-p-password-7f3a";
    private const string OtherPassword = "app-q-password-91c2";

    private readonly RedisServer _server = RedisServer.Start();

    public SecurityAclTests()
    {
        // Exactly the README's line, for prefix "p" and prefix "q" (KeyVersion 1).
        Assert.Equal("OK", _server.Cli([.. AclLine("app-p", AppPassword, "p")]));
        Assert.Equal("OK", _server.Cli([.. AclLine("app-q", OtherPassword, "q")]));
        Assert.Equal("OK", _server.Cli("ACL", "LOG", "RESET"));
    }

    public void Dispose() => _server.Dispose();

    /// <summary>
    /// The ACL SETUSER line of the README's Security section (for user and prefix <c>myapp</c>), for user
    /// <paramref name="user"/> and key prefix <paramref name="prefix"/>.
    /// </summary>
    public static string[] AclLine(string user, string password, string prefix)
    {
        string directory = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(directory, "runtime", "CacheGen.Redis", "README.md")))
            directory = Path.GetDirectoryName(directory) ?? throw new FileNotFoundException("runtime/CacheGen.Redis/README.md");
        string line = File.ReadLines(Path.Combine(directory, "runtime", "CacheGen.Redis", "README.md"))
            .Single(l => l.StartsWith("ACL SETUSER myapp ", StringComparison.Ordinal));
        string[] arguments = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        arguments[2] = user;
        for (int i = 3; i < arguments.Length; i++)
            arguments[i] = arguments[i] == "><password>" ? ">" + password : arguments[i].Replace("myapp:", prefix + ":", StringComparison.Ordinal);
        return arguments;
    }

    private string Configuration(string user, string password) =>
        $"{_server.Configuration},defaultDatabase=1,user={user},password={password}";

    private CacheInstance App(string user, string password, string prefix, Action<CacheGenOptions>? configure = null) =>
        CacheInstance.Create(Configuration(user, password), o =>
        {
            o.KeyPrefix = prefix;
            configure?.Invoke(o);
        });

    private static Func<CancellationToken, ValueTask<string>> Source(List<string> calls, string value) => _ =>
    {
        lock (calls)
            calls.Add(value);
        return ValueTask.FromResult(value);
    };

    [Fact]
    public async Task CacheGen_works_fully_under_a_user_limited_to_its_prefix_and_channel()
    {
        void Options(CacheGenOptions o) => o.DistributedStampedeProtection = true;
        await using var first = App("app-p", AppPassword, "p", Options);
        await using var second = App("app-p", AppPassword, "p", Options);
        await Task.WhenAll(first.Hooks.BackplaneReady, second.Hooks.BackplaneReady).WaitAsync(TimeSpan.FromSeconds(20));

        var calls = new List<string>();
        string key = Entry.UniqueKey();
        // Read-through: the second instance is served from Redis.
        Assert.Equal("v1", await first.Cache.GetOrCreateAsync(key, Source(calls, "v1"), tags: Entry.Posts));
        await first.SettledAsync();
        Assert.Equal("v1", await second.Cache.GetOrCreateAsync(key, Source(calls, "unused"), tags: Entry.Posts));
        Assert.Equal(["v1"], calls);
        Assert.Equal("1", _server.Cli("-n", "1", "EXISTS", "p:1:" + key));

        // Region eviction in Redis, and through the backplane in the other instance's in-process cache.
        await first.Cache.RemoveByTagAsync("posts");
        await WaitUntil(() => second.Hooks.BackplaneMessagesApplied >= 1);
        Assert.Equal("v2", await second.Cache.GetOrCreateAsync(key, Source(calls, "v2"), tags: Entry.Posts));
        await second.SettledAsync();
        Assert.Equal("v2", await first.Cache.GetOrCreateAsync(key, Source(calls, "unused"), tags: Entry.Posts));
        Assert.Equal(["v1", "v2"], calls);

        // Key eviction (tombstone), an unconditional set, and a tagless entry.
        await second.Cache.RemoveAsync(key);
        await WaitUntil(() => first.Hooks.BackplaneMessagesApplied >= 1);
        Assert.Equal("v3", await first.Cache.GetOrCreateAsync(key, Source(calls, "v3"), tags: Entry.Posts));
        string setKey = Entry.UniqueKey();
        await first.Cache.SetAsync(setKey, "set", tags: Entry.Posts);
        Assert.Equal("set", await second.Cache.GetOrCreateAsync(setKey, Source(calls, "unused"), Entry.NoLocal, Entry.Posts));
        Assert.Equal("plain", await second.Cache.GetOrCreateAsync("plain:" + Guid.NewGuid().ToString("N"), Source(calls, "plain")));
        Assert.Equal(["v1", "v2", "v3", "plain"], calls);
        await first.SettledAsync();
        await second.SettledAsync();

        // Nothing was refused, to CacheGen or to the client's own handshake.
        string refused = _server.Cli("ACL", "LOG");
        Assert.True(refused == "", "ACL LOG:\n" + refused.Replace('\n', ' '));
        // No call failed (a first SUBSCRIBE that raced the connection, event 14, is retried by design).
        Assert.DoesNotContain(first.Logs.Lines.Concat(second.Logs.Lines), l => l.Level >= Microsoft.Extensions.Logging.LogLevel.Warning && l.EventId.Id != CacheGenLogEvents.BackplaneSubscribeFailed);
    }

    [Fact]
    public async Task A_second_applications_user_gets_NOPERM_on_the_first_applications_keys_and_channel()
    {
        await using var appP = App("app-p", AppPassword, "p");
        await using var appQ = App("app-q", OtherPassword, "q");
        var calls = new List<string>();
        string key = Entry.UniqueKey();
        Assert.Equal("p value", await appP.Cache.GetOrCreateAsync(key, Source(calls, "p value"), tags: Entry.Posts));
        await appP.SettledAsync();
        // The second application caches under its own prefix on the same server, unhindered.
        Assert.Equal("q value", await appQ.Cache.GetOrCreateAsync(key, Source(calls, "q value"), tags: Entry.Posts));
        await appQ.SettledAsync();
        Assert.Equal("1", _server.Cli("-n", "1", "EXISTS", "q:1:" + key));
        Assert.Equal("", _server.Cli("ACL", "LOG"));

        // Logged in as the second application, every way at the first one's data is refused.
        await using var q = await ConnectionMultiplexer.ConnectAsync(
            $"{Configuration("app-q", OtherPassword)},tiebreaker=,configChannel=q:1:cachegen:config");
        IDatabase database = q.GetDatabase();
        string entry = "p:1:" + key, generation = "p:1:#gen:{posts}";
        AssertNoPermission(await Assert.ThrowsAsync<RedisServerException>(() => database.StringGetAsync(entry)));
        AssertNoPermission(await Assert.ThrowsAsync<RedisServerException>(() => database.StringSetAsync(entry, "forged")));
        AssertNoPermission(await Assert.ThrowsAsync<RedisServerException>(() => database.StringIncrementAsync(generation)));
        AssertNoPermission(await Assert.ThrowsAsync<RedisServerException>(() => database.KeyDeleteAsync(generation)));
        // Keys named inside a script are checked too.
        AssertNoPermission(await Assert.ThrowsAsync<RedisServerException>(() => database.ScriptEvaluateAsync("return redis.call('GET', KEYS[1])", [entry])));
        RedisChannel channel = RedisChannel.Literal("p:1:cachegen:evict");
        AssertNoPermission(await Assert.ThrowsAsync<RedisServerException>(() => q.GetSubscriber().PublishAsync(channel, "forged:t:posts")));
        AssertNoPermission(await Assert.ThrowsAsync<RedisServerException>(() => q.GetSubscriber().SubscribeAsync(channel)));
        // Its own prefix is fine.
        Assert.True(await database.StringSetAsync("q:1:own", "ok"));

        // The first application's entry is untouched: read from Redis only, the data call does not run.
        Assert.Equal("p value", await appP.Cache.GetOrCreateAsync(key, Source(calls, "unused"), Entry.NoLocal, Entry.Posts));
        Assert.Equal(["p value", "q value"], calls);
        // Redis recorded the refusals against the second user; the first was never refused.
        string refusals = _server.Cli("ACL", "LOG");
        Assert.Contains(entry, refusals);
        Assert.Contains("p:1:cachegen:evict", refusals);
        Assert.DoesNotContain("username\napp-p", refusals);
        Assert.Contains("username\napp-q", refusals);
    }

    [Fact]
    public async Task An_application_pointed_at_another_applications_prefix_is_refused_and_still_serves_from_the_source()
    {
        // A misconfiguration: the second application's user with the first application's prefix.
        await using var misconfigured = App("app-q", OtherPassword, "p", o => o.RedisTimeout = TimeSpan.FromSeconds(2));
        var calls = new List<string>();
        string key = Entry.UniqueKey();
        for (int i = 1; i <= 2; i++)
            Assert.Equal("source " + i, await misconfigured.Cache.GetOrCreateAsync(key, Source(calls, "source " + i), Entry.NoLocal, Entry.Posts));
        await misconfigured.Cache.RemoveByTagAsync("posts");
        await misconfigured.SettledAsync();

        Assert.Equal("0", _server.Cli("-n", "1", "EXISTS", "p:1:" + key));
        Assert.Contains(misconfigured.Logs.WithEventId(CacheGenLogEvents.RedisReadFailed), l => l.Exception!.Contains("NOPERM"));
        Assert.Contains(misconfigured.Logs.WithEventId(CacheGenLogEvents.RedisEvictFailed), l => l.Exception!.Contains("NOPERM"));
        Assert.Contains("app-q", _server.Cli("ACL", "LOG"));
    }

    /// <summary>Every grant of the README's line but UNSUBSCRIBE, which the backplane sends only after a failed subscribe.</summary>
    public static TheoryData<string> Grants() =>
        [.. AclLine("app-p", AppPassword, "p").Where(a => a[0] is '+' or '~' or '&' && a != "+unsubscribe")];

    [Theory]
    [MemberData(nameof(Grants))]
    public async Task Without_any_one_grant_of_the_line_something_is_refused(string grant)
    {
        string[] line = [.. AclLine("app-p", AppPassword, "p").Where(a => a != grant)];
        Assert.Equal("OK", _server.Cli(line));
        Assert.Equal("OK", _server.Cli("ACL", "LOG", "RESET"));
        // PING is the client's keep-alive on an idle connection: make it due within a second for that case.
        string keepAlive = grant == "+ping" ? ",keepAlive=1" : "";
        await using (var app = CacheInstance.Create(Configuration("app-p", AppPassword) + ",connectTimeout=2000" + keepAlive, o =>
        {
            o.KeyPrefix = "p";
            o.RedisTimeout = TimeSpan.FromSeconds(1);
            o.DistributedStampedeProtection = true;
        }))
        {
            await Task.WhenAny(app.Hooks.BackplaneReady, Task.Delay(TimeSpan.FromSeconds(3)));
            var calls = new List<string>();
            string key = Entry.UniqueKey();
            await app.Cache.GetOrCreateAsync(key, Source(calls, "v"), tags: Entry.Posts);
            // An entry that outlives its tag's new generation key: its guarded write extends that key (PEXPIRE), however
            // little time passed since the read created it.
            await app.Cache.GetOrCreateAsync(Entry.UniqueKey(), Source(calls, "long"), new HybridCacheEntryOptions { Expiration = TimeSpan.FromHours(1) },
                ["acl" + Guid.NewGuid().ToString("N")]);
            await app.SettledAsync();
            await app.Cache.GetOrCreateAsync("plain:" + Guid.NewGuid().ToString("N"), Source(calls, "plain"));
            // A lifetime in milliseconds makes the client use PSETEX rather than SETEX.
            await app.Cache.SetAsync(key, "set", new HybridCacheEntryOptions { Expiration = TimeSpan.FromMilliseconds(1500) }, Entry.Posts);
            await app.Cache.RemoveAsync(key);
            // A fill over the tombstone checks its stamp (GETRANGE).
            await app.Cache.GetOrCreateAsync(key, Source(calls, "after"), Entry.NoLocal, Entry.Posts);
            await app.SettledAsync();
            await app.Cache.RemoveByTagAsync("posts");
            if (keepAlive != "")
                await Task.Delay(TimeSpan.FromSeconds(2.5));
        }
        Assert.NotEqual("", _server.Cli("ACL", "LOG"));
    }

    private static void AssertNoPermission(RedisServerException refused) => Assert.StartsWith("NOPERM", refused.Message);

    private static async Task WaitUntil(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition() && clock.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(20);
        Assert.True(condition(), "timed out");
    }
}
