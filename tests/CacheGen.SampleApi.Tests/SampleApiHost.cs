using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using CacheGen.SampleApi;
using CacheGen.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CacheGen.SampleApi.Tests;

/// <summary>
/// The sample API as a user runs it: a private redis-server (optional), a SQLite file in a temp folder, posts added
/// by the real <c>addpost</c> command, and <see cref="SampleApp.Build"/> listening on a free loopback port through
/// real Kestrel.
/// </summary>
public sealed class SampleApiHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SampleApiHost(string directory, RedisServer? redis, WebApplication app, LogCapture logs, Uri address)
    {
        Directory = directory;
        Redis = redis;
        _app = app;
        Logs = logs;
        Client = new HttpClient { BaseAddress = address };
    }

    public string Directory { get; }

    public string DatabasePath => Path.Combine(Directory, "posts.db");

    public RedisServer? Redis { get; }

    public LogCapture Logs { get; }

    public HttpClient Client { get; }

    public PostStore Store => _app.Services.GetRequiredService<PostStore>();

    public IServiceProvider Services => _app.Services;

    /// <summary>The configuration arguments that point the app (or the addpost command) at this host's database and Redis.</summary>
    public string[] ConfigArguments => ConfigArgumentsFor(DatabasePath, Redis);

    /// <summary>Starts redis-server (unless <paramref name="withRedis"/> is false), runs <c>addpost</c>, starts the API (with <paramref name="arguments"/> too).</summary>
    public static async Task<SampleApiHost> StartAsync(int posts = 1000, bool withRedis = true, params string[] arguments)
    {
        string directory = Path.Combine(Path.GetTempPath(), "cachegen-sample-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        RedisServer? redis = withRedis ? RedisServer.Start() : null;
        WebApplication? app = null;
        try
        {
            string database = Path.Combine(directory, "posts.db");
            string[] config = ConfigArgumentsFor(database, redis);
            if (posts > 0)
            {
                var output = new StringWriter();
                var errors = new StringWriter();
                int exitCode = await SampleApp.RunAsync(["addpost", posts.ToString(System.Globalization.CultureInfo.InvariantCulture), .. config], output, errors);
                Assert.True(exitCode == 0, $"addpost failed ({exitCode}): {errors}");
                Assert.Equal($"Successfully added {posts} posts{Environment.NewLine}", output.ToString());
            }

            var logs = new LogCapture();
            app = SampleApp.Build(["--urls=http://127.0.0.1:0", "--environment=Production", .. config, .. arguments], builder => builder.Logging.AddProvider(logs));
            await app.StartAsync();
            // Kestrel replaces port 0 with the port it bound.
            var address = new Uri(app.Urls.Single());
            return new SampleApiHost(directory, redis, app, logs, address);
        }
        catch
        {
            if (app is not null)
                await app.DisposeAsync();
            redis?.Dispose();
            throw;
        }
    }

    public static string[] ConfigArgumentsFor(string database, RedisServer? redis)
    {
        var arguments = new List<string> { $"--Posts:Database={database}", "--CacheGen:KeyPrefix=example" };
        if (redis is not null)
            arguments.Add($"--CacheGen:Redis={redis.Configuration},defaultDatabase=1");
        return [.. arguments];
    }

    /// <summary>GET /posts/ as parsed JSON plus its raw body.</summary>
    public async Task<(JsonElement Posts, string Body)> ListAsync()
    {
        using HttpResponseMessage response = await Client.GetAsync("/posts/");
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET /posts/ -> {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return (JsonDocument.Parse(body).RootElement.Clone(), body);
    }

    public async Task<HttpResponseMessage> SendJsonAsync(HttpMethod method, string path, object body) =>
        await Client.SendAsync(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) });

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Redis?.Dispose();
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

/// <summary>Keeps every log line the app writes, as "category: message".</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
    }
}
