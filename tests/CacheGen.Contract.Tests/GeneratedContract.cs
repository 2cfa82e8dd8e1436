using System.ComponentModel;
using Microsoft.Extensions.Caching.Hybrid;

namespace CacheGen.Contract.Tests;

/// <summary>
/// What the attributes promise (tags, typed eviction, write-through, several evictions on one method), through the code
/// the generator writes, on every implementation. Microsoft's HybridCache has tags, so everything but the write-through
/// behaves the same there; a write-through has no guard on it and evicts instead (see <see cref="Cases.Differences"/>).
/// </summary>
[Collection(ContractCollection.Name)]
public sealed class GeneratedContract(ContractRedis redis)
{
    private CacheSet Caches(string implementation) => new(Implementation.Named(implementation), redis);

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Tags_a_tag_eviction_drops_exactly_the_entries_that_carry_the_tag), MemberType = typeof(Cases))]
    public async Task Tags_a_tag_eviction_drops_exactly_the_entries_that_carry_the_tag(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        var store = new PostStore();
        var posts = new PostService(store, caches.First);
        await posts.GetAsync(1);
        await posts.GetAsync(2);
        await posts.ByAuthorAsync(3);
        await posts.ByAuthorAsync(4);
        await posts.CountAsync();
        int before = store.Reads;

        await posts.SaveAsync(new Post(1, 3, "edited"));   // evicts tags post:1 and author:3, in region "posts"

        Assert.Equal("edited", (await posts.GetAsync(1))!.Title);
        Assert.Equal("edited", (await posts.ByAuthorAsync(3))[0].Title);
        await posts.GetAsync(2);
        await posts.ByAuthorAsync(4);
        await posts.CountAsync();
        Assert.Equal(before + 2, store.Reads);
        if (caches.Distributed)
            Assert.Equal("edited", (await new PostService(store, caches.Reader).GetAsync(1))!.Title);
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Method_a_typed_eviction_drops_exactly_the_entry_of_those_arguments), MemberType = typeof(Cases))]
    public async Task Method_a_typed_eviction_drops_exactly_the_entry_of_those_arguments(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        var store = new PostStore();
        var posts = new PostService(store, caches.First);
        await posts.GetAsync(1);
        await posts.GetAsync(2);
        await posts.ByAuthorAsync(3);
        int before = store.Reads;

        await posts.DeleteAsync(1);   // [InvalidatesCache(Method = nameof(GetAsync))] and [InvalidatesCache(Tags = ["author:{authorId}"])]

        Assert.Null(await posts.GetAsync(1));
        await posts.GetAsync(2);
        Assert.Empty(await posts.ByAuthorAsync(3));
        Assert.Equal(before + 2, store.Reads);
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(UpdatesCache_the_next_read_returns_the_written_value_without_asking_the_source), MemberType = typeof(Cases))]
    public async Task UpdatesCache_the_next_read_returns_the_written_value_without_asking_the_source(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        var store = new PostStore();
        var posts = new PostService(store, caches.First);
        await posts.GetAsync(1);
        int before = store.Reads;

        Post? renamed = await posts.RenameAsync(1, "renamed");

        Assert.Equal(renamed, await posts.GetAsync(1));
        Assert.Equal(before, store.Reads);
        if (caches.Distributed)
        {
            Assert.Equal(renamed, await new PostService(store, caches.Reader).GetAsync(1));
            Assert.Equal(before, store.Reads);
        }
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(UpdatesCache_a_write_that_throws_leaves_the_entry_alone), MemberType = typeof(Cases))]
    public async Task UpdatesCache_a_write_that_throws_leaves_the_entry_alone(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        var store = new PostStore();
        var posts = new PostService(store, caches.First);
        Post? cached = await posts.GetAsync(1);
        store.FailWrites = true;

        await Assert.ThrowsAsync<InvalidOperationException>(() => posts.RenameAsync(1, "never"));

        store.FailWrites = false;
        Assert.Equal(cached, await posts.GetAsync(1));
        Assert.Equal("renamed", (await posts.RenameAsync(1, "renamed"))!.Title);
        Assert.Equal("renamed", (await posts.GetAsync(1))!.Title);
    }

    [Theory]
    [MemberData(nameof(Cases.All), nameof(Clear_star_drops_every_generated_entry), MemberType = typeof(Cases))]
    public async Task Clear_star_drops_every_generated_entry(string implementation)
    {
        await using CacheSet caches = Caches(implementation);
        var store = new PostStore();
        var posts = new PostService(store, caches.First);
        await posts.GetAsync(1);
        await posts.ByAuthorAsync(3);
        await posts.CountAsync();
        int before = store.Reads;

        await caches.First.RemoveByTagAsync("*");

        await posts.GetAsync(1);
        await posts.ByAuthorAsync(3);
        await posts.CountAsync();
        Assert.Equal(before + 3, store.Reads);
    }
}

[ImmutableObject(true)]
public sealed record Post(int Id, int AuthorId, string Title);

/// <summary>The data source: posts 1..4 by authors 3 and 4, with a count of reads.</summary>
public sealed class PostStore
{
    private readonly Dictionary<int, Post> _posts = new()
    {
        [1] = new Post(1, 3, "one"),
        [2] = new Post(2, 4, "two"),
        [3] = new Post(3, 4, "three"),
        [4] = new Post(4, 4, "four"),
    };
    private int _reads;

    public int Reads => Volatile.Read(ref _reads);

    public bool FailWrites { get; set; }

    public Post? Find(int id)
    {
        Interlocked.Increment(ref _reads);
        lock (_posts)
            return _posts.GetValueOrDefault(id);
    }

    public IReadOnlyList<Post> ByAuthor(int authorId)
    {
        Interlocked.Increment(ref _reads);
        lock (_posts)
            return [.. _posts.Values.Where(p => p.AuthorId == authorId).OrderBy(p => p.Id)];
    }

    public int Count()
    {
        Interlocked.Increment(ref _reads);
        lock (_posts)
            return _posts.Count;
    }

    public Post? Write(int id, Func<Post, Post> change)
    {
        if (FailWrites)
            throw new InvalidOperationException("the write failed");
        lock (_posts)
        {
            if (!_posts.TryGetValue(id, out Post? post))
                return null;
            return _posts[id] = change(post);
        }
    }

    public void Delete(int id)
    {
        lock (_posts)
            _posts.Remove(id);
    }
}

public sealed partial class PostService(PostStore store, HybridCache cache)
{
    [Cached("posts", Key = "post:{id}", Tags = ["post:{id}"])]
    public partial Task<Post?> GetAsync(int id);
    private Task<Post?> GetCoreAsync(int id) => Task.FromResult(store.Find(id));

    [Cached("posts", Key = "author:{authorId}", Tags = ["author:{authorId}"])]
    public partial Task<IReadOnlyList<Post>> ByAuthorAsync(int authorId);
    private Task<IReadOnlyList<Post>> ByAuthorCoreAsync(int authorId) => Task.FromResult(store.ByAuthor(authorId));

    [Cached("counts")]
    public partial Task<int> CountAsync();
    private Task<int> CountCoreAsync() => Task.FromResult(store.Count());

    [InvalidatesCache(Tags = ["post:{post.Id}", "author:{post.AuthorId}"])]
    public partial Task SaveAsync(Post post);
    private Task SaveCoreAsync(Post post)
    {
        store.Write(post.Id, _ => post);
        return Task.CompletedTask;
    }

    [InvalidatesCache(Method = nameof(GetAsync))]
    [InvalidatesCache(Tags = ["author:{authorId}"])]
    public partial Task DeleteAsync(int id, int authorId = 3);
    private Task DeleteCoreAsync(int id, int authorId)
    {
        store.Delete(id);
        return Task.CompletedTask;
    }

    [UpdatesCache(nameof(GetAsync))]
    public partial Task<Post?> RenameAsync(int id, string title);
    private Task<Post?> RenameCoreAsync(int id, string title) => Task.FromResult(store.Write(id, p => p with { Title = title }));
}
