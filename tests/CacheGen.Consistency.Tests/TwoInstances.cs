using System.Globalization;
using CacheGen.Redis;
using CacheGen.SampleApi;
using CacheGen.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CacheGen.Consistency.Tests;

/// <summary>
/// Two instances of the sample API, each on real Kestrel with its own CacheGen (L1 + backplane), sharing one SQLite
/// file and one redis-server: a two-node deployment in one process.
/// </summary>
public sealed class TwoInstances : IAsyncDisposable
{
    private readonly WebApplication[] _apps;

    private TwoInstances(string directory, RedisServer redis, WebApplication[] apps)
    {
        Directory = directory;
        Redis = redis;
        _apps = apps;
        Clients = [.. apps.Select(app => new HttpClient { BaseAddress = new Uri(app.Urls.Single()) })];
    }

    public string Directory { get; }

    public RedisServer Redis { get; }

    public HttpClient[] Clients { get; }

    /// <summary>
    /// Starts redis-server, adds <paramref name="posts"/> posts, starts two instances and waits until both listen on the
    /// backplane. <paramref name="dropIncoming"/>, when given, decides for each backplane message whether it is lost.
    /// </summary>
    public static async Task<TwoInstances> StartAsync(int posts, Action<CacheGenOptions> configure, Func<bool>? dropIncoming = null)
    {
        string directory = Path.Combine(Path.GetTempPath(), "cachegen-checker-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        RedisServer redis = RedisServer.Start();
        var apps = new List<WebApplication>();
        try
        {
            string[] config =
            [
                $"--Posts:Database={Path.Combine(directory, "posts.db")}",
                "--CacheGen:KeyPrefix=checker",
                $"--CacheGen:Redis={redis.Configuration},defaultDatabase=1",
            ];
            int exit = await SampleApp.RunAsync(["addpost", posts.ToString(CultureInfo.InvariantCulture), .. config], new StringWriter(), new StringWriter());
            Assert.Equal(0, exit);
            for (int i = 0; i < 2; i++)
            {
                WebApplication app = SampleApp.Build(["--urls=http://127.0.0.1:0", "--environment=Production", .. config], builder =>
                {
                    builder.Logging.ClearProviders();
                    builder.Services.Configure(configure);
                });
                apps.Add(app);
                await app.StartAsync();
                var cache = (RedisHybridCache)app.Services.GetRequiredService<HybridCache>();
                cache.Hooks.DropIncomingBackplaneMessage = dropIncoming;
                await cache.Hooks.BackplaneReady.WaitAsync(TimeSpan.FromSeconds(20));
            }
            return new TwoInstances(directory, redis, [.. apps]);
        }
        catch
        {
            foreach (WebApplication app in apps)
                await app.DisposeAsync();
            redis.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (HttpClient client in Clients)
            client.Dispose();
        foreach (WebApplication app in _apps)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        Redis.Dispose();
        SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
