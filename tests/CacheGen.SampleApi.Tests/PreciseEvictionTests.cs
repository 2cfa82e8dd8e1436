using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace CacheGen.SampleApi.Tests;

/// <summary>
/// Writes evict what they changed, counted in database queries: PUT /posts/7 refreshes post 7 (write-through) and the
/// lists (tag "lists"), and every other cached post stays a hit; DELETE drops exactly that post (typed eviction).
/// </summary>
public sealed class PreciseEvictionTests
{
    private const string Edit = """{"title":"Edited","content":"Edited content"}""";

    private static async Task<long> QueriesFor(SampleApiHost host, string path)
    {
        long before = host.Store.QueryCount;
        using HttpResponseMessage response = await host.Client.GetAsync(path);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"GET {path} -> {(int)response.StatusCode}");
        return host.Store.QueryCount - before;
    }

    private static async Task WarmAsync(SampleApiHost host, params string[] paths)
    {
        foreach (string path in paths)
            await QueriesFor(host, path);
        foreach (string path in paths)
            Assert.Equal(0, await QueriesFor(host, path)); // each is a hit now
    }

    [Fact]
    public async Task PUT_refreshes_the_post_and_the_lists_and_leaves_other_posts_cached()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 60);
        await WarmAsync(host, "/posts/7", "/posts/8", "/posts/40", "/posts/", "/posts/?page=1", "/posts/?page=2");

        using (HttpResponseMessage put = await host.Client.PutAsync("/posts/7", new StringContent(Edit, System.Text.Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        // Post 7's entry is the PUT's own result: read without a query, and already edited.
        Assert.Equal(0, await QueriesFor(host, "/posts/7"));
        Assert.Equal("Edited", (await host.Client.GetFromJsonAsync<Post>("/posts/7"))!.Title);
        Assert.Equal(0, await QueriesFor(host, "/posts/8"));
        Assert.Equal(0, await QueriesFor(host, "/posts/40"));
        // Every list carries the tag "lists": each is read again once, and shows the edit.
        Assert.Equal(1, await QueriesFor(host, "/posts/"));
        Assert.Equal(1, await QueriesFor(host, "/posts/?page=1"));
        Assert.Equal(1, await QueriesFor(host, "/posts/?page=2"));
        (JsonElement list, _) = await host.ListAsync();
        Assert.Equal("Edited", list.GetProperty("post_7").GetProperty("title").GetString());
        JsonElement page = await host.Client.GetFromJsonAsync<JsonElement>("/posts/?page=1");
        Assert.Equal("Edited", page.GetProperty("post_7").GetProperty("title").GetString());
    }

    [Fact]
    public async Task DELETE_drops_exactly_that_post_and_the_lists()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 30);
        await WarmAsync(host, "/posts/3", "/posts/4", "/posts/");

        using (HttpResponseMessage delete = await host.Client.DeleteAsync("/posts/3"))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);

        Assert.Equal(1, await QueriesFor(host, "/posts/3"));
        using (HttpResponseMessage gone = await host.Client.GetAsync("/posts/3"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(0, await QueriesFor(host, "/posts/4"));
        Assert.Equal(1, await QueriesFor(host, "/posts/"));
    }

    [Fact]
    public async Task POST_refreshes_the_lists_only()
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 25);
        await WarmAsync(host, "/posts/1", "/posts/", "/posts/?page=2");

        using (HttpResponseMessage post = await host.Client.PostAsync("/posts/", new StringContent(Edit, System.Text.Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.Created, post.StatusCode);

        Assert.Equal(0, await QueriesFor(host, "/posts/1"));
        Assert.Equal(1, await QueriesFor(host, "/posts/"));
        JsonElement page = await host.Client.GetFromJsonAsync<JsonElement>("/posts/?page=2");
        Assert.Equal(6, page.EnumerateObject().Count()); // posts 21..26: the new one is on page 2
    }

    [Theory]
    [InlineData("/posts/?page=0")]
    [InlineData("/posts/?page=-3")]
    [InlineData("/posts/?page=two")]
    public async Task A_bad_page_is_a_400_problem(string path)
    {
        await using SampleApiHost host = await SampleApiHost.StartAsync(posts: 1);
        using HttpResponseMessage response = await host.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
