using System.Diagnostics;
using CacheGen.Testing;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Benchmarks;

/// <summary>
/// (h) Not a timing: the hit ratio of reads of other posts while one post is written in a loop, with the sample's
/// precise invalidation (write-through of the post, tag "lists") against whole-region eviction, side by side in one
/// run over one redis-server. Two instances (L1 each, backplane), readers on both, the writer on the first.
/// Run: <c>dotnet run -c Release -- --scenario put-under-read-load</c>.
/// </summary>
public static class PutUnderReadLoad
{
    private const int Posts = 1000;
    private const int ReadersPerInstance = 4;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(10);

    public static void Run()
    {
        using RedisServer redis = RedisServer.Start();
        Console.WriteLine($"{Duration.TotalSeconds:0} s each: {2 * ReadersPerInstance} readers of posts 2..{Posts} on two instances, one writer updating post 1 in a loop");
        Console.WriteLine("| invalidation | writes | reads of other posts | hit ratio |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        foreach (bool precise in new[] { true, false })
        {
            (long writes, long reads, long misses) = Measure(redis, precise);
            Console.WriteLine($"| {(precise ? "tags + write-through (the sample)" : "whole region")} | {writes:N0} | {reads:N0} | {100.0 * (reads - misses) / reads:F2}% |");
        }
    }

    private static (long Writes, long Reads, long Misses) Measure(RedisServer redis, bool precise)
    {
        using var caches = new Caches();
        string prefix = precise ? "precise" : "region";
        var source = new PostSource();
        HybridCache[] instances = [caches.CacheGen(redis.Configuration, o => o.KeyPrefix = prefix), caches.CacheGen(redis.Configuration, o => o.KeyPrefix = prefix)];
        var services = instances.Select(cache => new BlogService(source, cache)).ToArray();
        foreach (BlogService service in services)
        {
            for (int id = 2; id <= Posts; id++)
                service.GetAsync(id).AsTask().GetAwaiter().GetResult();
        }
        long readsBefore = source.Reads;

        var stop = Stopwatch.StartNew();
        long reads = 0;
        Task[] readers = [.. services.SelectMany(service => Enumerable.Range(0, ReadersPerInstance).Select(r => Task.Run(async () =>
        {
            var random = new Random(r);
            while (stop.Elapsed < Duration)
            {
                await service.GetAsync(random.Next(2, Posts + 1));
                // An in-process hit completes synchronously: yield now and then, as a server does between requests,
                // so the writer gets a thread on a small machine.
                if ((Interlocked.Increment(ref reads) & 255) == 0)
                    await Task.Yield();
            }
        })))];
        long writes = 0;
        Task writer = Task.Run(async () =>
        {
            while (stop.Elapsed < Duration)
            {
                await (precise ? services[0].RenameAsync(1, "title " + writes) : services[0].RenameEvictingRegionAsync(1, "title " + writes));
                writes++;
            }
        });
        Task.WaitAll([.. readers, writer]);
        return (writes, reads, source.Reads - readsBefore);
    }
}

/// <summary>The data source: counts reads of single posts.</summary>
public sealed class PostSource
{
    private long _reads;

    public long Reads => Interlocked.Read(ref _reads);

    public ScenarioPost Find(int id)
    {
        Interlocked.Increment(ref _reads);
        return new ScenarioPost(id, "title " + id, "content " + id);
    }
}

public sealed partial class BlogService(PostSource source, HybridCache cache)
{
    [Cached("posts", Key = "post:{id}", Tags = ["post:{id}"])]
    public partial ValueTask<ScenarioPost> GetAsync(int id);
    private ValueTask<ScenarioPost> GetCoreAsync(int id) => new(source.Find(id));

    [UpdatesCache(nameof(GetAsync))]
    [InvalidatesCache(Tags = ["lists"])]
    public partial ValueTask<ScenarioPost> RenameAsync(int id, string title);
    private ValueTask<ScenarioPost> RenameCoreAsync(int id, string title) => new(new ScenarioPost(id, title, "content " + id));

    [InvalidatesCache("posts")]
    public partial ValueTask<ScenarioPost> RenameEvictingRegionAsync(int id, string title);
    private ValueTask<ScenarioPost> RenameEvictingRegionCoreAsync(int id, string title) => new(new ScenarioPost(id, title, "content " + id));

    // Declares the "lists" tag the write-through evicts, as the sample's lists do.
    [Cached("posts", Tags = ["lists"])]
    public partial ValueTask<int> CountAsync();
    private ValueTask<int> CountCoreAsync() => new(0);
}

[System.ComponentModel.ImmutableObject(true)]
public sealed record ScenarioPost(int Id, string Title, string Content);
