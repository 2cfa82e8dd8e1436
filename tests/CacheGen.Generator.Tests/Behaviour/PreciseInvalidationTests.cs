using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace CacheGen.Generator.Tests.Behaviour;

/// <summary>
/// Tag eviction, typed eviction and write-through as generated code does them against CacheGen's in-process
/// HybridCache: exactly the entries a write changes are dropped or replaced, and nothing else.
/// </summary>
public sealed class PreciseInvalidationTests : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly Blog _blog;

    public PreciseInvalidationTests()
    {
        _services = new ServiceCollection().AddLogging().AddCacheGen().BuildServiceProvider();
        _blog = new Blog(_services.GetRequiredService<HybridCache>());
    }

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task Tag_eviction_drops_exactly_the_entries_carrying_the_tags_in_every_region()
    {
        await _blog.GetPostAsync(1);
        await _blog.GetPostAsync(2);
        await _blog.ByAuthorAsync(10);
        await _blog.ByAuthorAsync(20);
        await _blog.FeedAsync(10);
        _blog.Version = 1;

        await _blog.SaveAsync(new BlogPost(Id: 1, AuthorId: 10));

        Assert.Equal("post 1 v1", await _blog.GetPostAsync(1));
        Assert.Equal("author 10 v1", await _blog.ByAuthorAsync(10));
        Assert.Equal("feed 10 v1", await _blog.FeedAsync(10));
        Assert.Equal("post 2 v0", await _blog.GetPostAsync(2));
        Assert.Equal("author 20 v0", await _blog.ByAuthorAsync(20));
    }

    [Fact]
    public async Task Typed_eviction_drops_exactly_the_targets_entry_for_those_arguments()
    {
        await _blog.GetPostAsync(1);
        await _blog.GetPostAsync(2);
        await _blog.GetPostAsync(1, "de");
        await _blog.ByAuthorAsync(1);
        _blog.Version = 1;

        await _blog.DeleteAsync(1);

        Assert.Equal("post 1 v1", await _blog.GetPostAsync(1));
        Assert.Equal("post 2 v0", await _blog.GetPostAsync(2));
        Assert.Equal("post 1 in de v0", await _blog.GetPostAsync(1, "de")); // the overload an id alone cannot build
        Assert.Equal("author 1 v0", await _blog.ByAuthorAsync(1));
    }

    [Fact]
    public async Task Typed_eviction_evicts_each_overload_the_arguments_can_build()
    {
        await _blog.GetPostAsync(1);
        await _blog.GetPostAsync(1, "de");
        await _blog.GetPostAsync(1, "fr");
        _blog.Version = 1;

        await _blog.DeleteTranslationAsync(1, "de");

        Assert.Equal("post 1 v1", await _blog.GetPostAsync(1));
        Assert.Equal("post 1 in de v1", await _blog.GetPostAsync(1, "de"));
        Assert.Equal("post 1 in fr v0", await _blog.GetPostAsync(1, "fr"));
    }

    [Fact]
    public async Task Write_through_stores_the_result_as_the_targets_entry_with_its_tags()
    {
        Assert.Equal("post 1 v0", await _blog.GetPostAsync(1));
        await _blog.GetPostAsync(2);

        string written = await _blog.RetitleAsync(1, "Hello");

        Assert.Equal("post 1: Hello", written);
        Assert.Equal(written, await _blog.GetPostAsync(1));
        Assert.Equal(2, _blog.Reads); // served from the written entry: the core did not run again
        Assert.Equal("post 2 v0", await _blog.GetPostAsync(2));

        // The written entry carries GetPostAsync's tags, so evicting the post's tag drops it.
        await _blog.SaveAsync(new BlogPost(Id: 1, AuthorId: 10));
        Assert.Equal("post 1 v0", await _blog.GetPostAsync(1));
        Assert.Equal(3, _blog.Reads);
    }

    [Fact]
    public async Task Write_through_of_an_entry_never_read_is_served_without_running_the_core()
    {
        string written = await _blog.RetitleAsync(3, "New");

        Assert.Equal(written, await _blog.GetPostAsync(3));
        Assert.Equal(0, _blog.Reads);
    }
}
