using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using CacheGen.SampleApi;

namespace CacheGen.SampleApi.Tests;

/// <summary>One HTTP request the load generator made: what, when (Stopwatch timestamps), and the status (0 = no response).</summary>
public readonly record struct RequestRecord(string Kind, long StartedAt, long EndedAt, int Status)
{
    public TimeSpan Latency => Stopwatch.GetElapsedTime(StartedAt, EndedAt);
}

/// <summary>
/// Concurrent readers (<c>GET /posts/{id}</c> and <c>GET /posts/</c>) and one writer (<c>PUT /posts/{id}</c> on a
/// few "hot" posts) against the sample API, checking every response as it arrives:
/// <list type="bullet">
/// <item>no status >= 500 and no request that failed without a response;</item>
/// <item>every body is something the database held: the initial row, or exactly what a PUT wrote (title, content and,
/// for single posts, the version);</item>
/// <item>no stale read: a read that started after a write's response arrived returns that write or a later one. With a
/// single writer the versions of a post are known before each PUT is sent, so a read can never be mistaken for stale
/// while the write it returns is still in flight.</item>
/// </list>
/// </summary>
public sealed class LoadGenerator : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly int _readers;
    private readonly TimeSpan _writePause;
    private readonly Dictionary<int, Post> _initial;
    private readonly int[] _hot;
    private readonly Dictionary<int, List<Written>> _history = [];
    private readonly ConcurrentQueue<RequestRecord> _requests = new();
    private readonly ConcurrentQueue<string> _problems = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private volatile bool _writesEnabled = true;
    private int _writeNumber;
    private long _staleReads;
    private readonly long _created = Stopwatch.GetTimestamp();
    private readonly string _runId = Guid.NewGuid().ToString("N")[..8];

    /// <summary>A version of a post: what a PUT wrote, and when its response arrived (long.MaxValue while in flight).</summary>
    private sealed record Written(int Version, string Title, string Content)
    {
        public long CompletedAt { get; set; } = long.MaxValue;
    }

    private LoadGenerator(HttpClient client, IReadOnlyList<Post> initial, int hotPosts, int readers, TimeSpan writePause)
    {
        _client = client;
        _readers = readers;
        _writePause = writePause;
        _initial = initial.ToDictionary(p => p.Id);
        _hot = [.. initial.Take(hotPosts).Select(p => p.Id)];
        foreach (Post post in initial)
            _history[post.Id] = [new Written(post.Version, post.Title, post.Content) { CompletedAt = 0 }];
    }

    /// <summary>Reads the initial rows straight from the database and starts the workers.</summary>
    public static async Task<LoadGenerator> StartAsync(HttpClient client, PostStore database, int hotPosts = 20, int readers = 6,
        TimeSpan? writePause = null)
    {
        IReadOnlyList<Post> initial = await database.ListAsync();
        var generator = new LoadGenerator(client, initial, hotPosts, readers, writePause ?? TimeSpan.FromMilliseconds(100));
        for (int i = 0; i < readers; i++)
            generator._workers.Add(Task.Run(() => generator.ReadLoopAsync(generator._stop.Token)));
        generator._workers.Add(Task.Run(() => generator.WriteLoopAsync(generator._stop.Token)));
        return generator;
    }

    /// <summary>Pauses or resumes the writer (a read-only phase shows the hit ratio without evictions in the way).</summary>
    public bool WritesEnabled
    {
        get => _writesEnabled;
        set => _writesEnabled = value;
    }

    public IReadOnlyList<RequestRecord> Requests => [.. _requests];

    public IReadOnlyList<string> Problems => [.. _problems];

    public long StaleReads => Interlocked.Read(ref _staleReads);

    public int Writes => Volatile.Read(ref _writeNumber);

    /// <summary>Time since the generator started (problem messages give times on this clock).</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_created);

    /// <summary>The 99th percentile latency of the requests that started in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public (TimeSpan P99, int Count) P99(long from, long to)
    {
        TimeSpan[] latencies = [.. Requests.Where(r => r.StartedAt >= from && r.StartedAt < to).Select(r => r.Latency).Order()];
        if (latencies.Length == 0)
            return (TimeSpan.Zero, 0);
        int index = (int)Math.Ceiling(latencies.Length * 0.99) - 1;
        return (latencies[Math.Clamp(index, 0, latencies.Length - 1)], latencies.Length);
    }

    /// <summary>Checks that every hot post now reads exactly as the database has it (after the load stopped).</summary>
    public async Task AssertMatchesDatabaseAsync(PostStore database)
    {
        foreach (int id in _hot)
        {
            Post? stored = await database.FindAsync(id);
            Post? served = await _client.GetFromJsonAsync<Post>($"/posts/{id}");
            Assert.Equal(stored, served);
        }
        JsonElement list = JsonDocument.Parse(await _client.GetStringAsync("/posts/")).RootElement;
        foreach (Post stored in await database.ListAsync())
        {
            JsonElement served = list.GetProperty($"post_{stored.Id}");
            Assert.Equal(stored.Title, served.GetProperty("title").GetString());
            Assert.Equal(stored.Content, served.GetProperty("content").GetString());
        }
    }

    private void Problem(string problem)
    {
        if (_problems.Count < 100)
            _problems.Enqueue(problem);
    }

    private async Task ReadLoopAsync(CancellationToken stop)
    {
        var random = new Random();
        while (!stop.IsCancellationRequested)
        {
            bool list = random.Next(5) == 0;
            int id = _hot[random.Next(_hot.Length)];
            string path = list ? "/posts/" : $"/posts/{id}";
            long started = Stopwatch.GetTimestamp();
            try
            {
                using HttpResponseMessage response = await _client.GetAsync(path, CancellationToken.None);
                string body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                long ended = Stopwatch.GetTimestamp();
                _requests.Enqueue(new RequestRecord(list ? "list" : "get", started, ended, (int)response.StatusCode));
                if (!response.IsSuccessStatusCode)
                {
                    Problem($"GET {path} -> {(int)response.StatusCode}: {body}");
                    continue;
                }
                if (list)
                    CheckList(body, started);
                else
                    CheckPost(id, JsonSerializer.Deserialize<Post>(body, JsonSerializerOptions.Web)!, started);
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                _requests.Enqueue(new RequestRecord(list ? "list" : "get", started, Stopwatch.GetTimestamp(), 0));
                Problem($"GET {path} failed: {e.Message}");
            }
            // A breath between requests: enough load to keep every reader busy, without starving the rest of the
            // test run (other test classes share the machine's two cores).
            await Delay(TimeSpan.FromMilliseconds(1), stop);
        }
    }

    private async Task WriteLoopAsync(CancellationToken stop)
    {
        var random = new Random();
        while (!stop.IsCancellationRequested)
        {
            if (!_writesEnabled)
            {
                await Delay(TimeSpan.FromMilliseconds(20), stop);
                continue;
            }
            int id = _hot[random.Next(_hot.Length)];
            int number = Interlocked.Increment(ref _writeNumber);
            Written written;
            lock (_history)
            {
                List<Written> versions = _history[id];
                // The run id keeps titles unique across generators on one database (an earlier run's last write is
                // this run's initial row).
                written = new Written(versions[^1].Version + 1, $"Post {id} write {_runId}.{number}", $"Content of post {id}, write {_runId}.{number}");
                versions.Add(written);
            }
            long started = Stopwatch.GetTimestamp();
            try
            {
                using HttpResponseMessage response = await _client.PutAsJsonAsync($"/posts/{id}", new { title = written.Title, content = written.Content }, CancellationToken.None);
                string body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                long ended = Stopwatch.GetTimestamp();
                _requests.Enqueue(new RequestRecord("put", started, ended, (int)response.StatusCode));
                if (!response.IsSuccessStatusCode)
                {
                    Problem($"PUT /posts/{id} -> {(int)response.StatusCode}: {body}");
                    continue;
                }
                Post saved = JsonSerializer.Deserialize<Post>(body, JsonSerializerOptions.Web)!;
                if (saved != new Post(id, written.Title, written.Content, written.Version))
                    Problem($"PUT /posts/{id} returned {saved}, expected version {written.Version} of what was sent");
                lock (_history)
                    written.CompletedAt = ended;
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                _requests.Enqueue(new RequestRecord("put", started, Stopwatch.GetTimestamp(), 0));
                Problem($"PUT /posts/{id} failed: {e.Message}");
            }
            await Delay(_writePause, stop);
        }
    }

    private static async Task Delay(TimeSpan delay, CancellationToken stop)
    {
        try
        {
            await Task.Delay(delay, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Checks a served post against the versions the database had; returns false if it is unknown.</summary>
    private void Check(int id, string title, string content, int? version, long readStartedAt, string what)
    {
        lock (_history)
        {
            List<Written> versions = _history[id];
            Written? served = versions.LastOrDefault(w => w.Title == title && w.Content == content && (version is null || w.Version == version));
            if (served is null)
            {
                Problem($"{what}: post {id} = ({version}, '{title}') was never in the database");
                return;
            }
            // The newest write whose response arrived before this read was sent.
            Written newestCompleted = versions.Where(w => w.CompletedAt < readStartedAt).MaxBy(w => w.Version)!;
            if (served.Version < newestCompleted.Version)
            {
                Interlocked.Increment(ref _staleReads);
                Problem($"{what}: stale post {id}: version {served.Version} served to a read sent "
                    + $"{Stopwatch.GetElapsedTime(newestCompleted.CompletedAt, readStartedAt).TotalMilliseconds:F0} ms after version {newestCompleted.Version} was written "
                    + $"(at {Stopwatch.GetElapsedTime(_created, newestCompleted.CompletedAt).TotalSeconds:F1} s)");
            }
        }
    }

    private void CheckPost(int id, Post post, long startedAt)
    {
        if (post.Id != id)
        {
            Problem($"GET /posts/{id} returned post {post.Id}");
            return;
        }
        Check(id, post.Title, post.Content, post.Version, startedAt, "GET /posts/{id}");
    }

    private void CheckList(string body, long startedAt)
    {
        JsonElement list = JsonDocument.Parse(body).RootElement;
        int count = 0;
        foreach (JsonProperty entry in list.EnumerateObject())
        {
            count++;
            int id = entry.Value.GetProperty("id").GetInt32();
            string title = entry.Value.GetProperty("title").GetString()!;
            string content = entry.Value.GetProperty("content").GetString()!;
            if (entry.Name != $"post_{id}" || !_initial.ContainsKey(id))
            {
                Problem($"GET /posts/: unexpected entry {entry.Name}");
                continue;
            }
            Check(id, title, content, null, startedAt, "GET /posts/");
        }
        if (count != _initial.Count)
            Problem($"GET /posts/ listed {count} posts, the database has {_initial.Count}");
    }

    /// <summary>Stops the workers and waits for their last requests (idempotent).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
            await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }
}
