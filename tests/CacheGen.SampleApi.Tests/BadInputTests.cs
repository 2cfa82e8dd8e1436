using System.Net;
using System.Text;
using System.Text.Json;

namespace CacheGen.SampleApi.Tests;

/// <summary>One API for all cases: each bad request gets a 4xx problem+json answer, never a 500.</summary>
public sealed class BadInputTests(BadInputTests.Api api) : IClassFixture<BadInputTests.Api>
{
    public sealed class Api : IAsyncLifetime
    {
        public SampleApiHost Host { get; private set; } = null!;

        public async Task InitializeAsync() => Host = await SampleApiHost.StartAsync(posts: 10);

        public async Task DisposeAsync() => await Host.DisposeAsync();
    }

    [Theory]
    [InlineData("GET", "/posts/abc", null, 400)]
    [InlineData("GET", "/posts/0", null, 400)]
    [InlineData("GET", "/posts/-5", null, 400)]
    [InlineData("GET", "/posts/99999999999", null, 400)]
    [InlineData("GET", "/posts/999999", null, 404)]
    [InlineData("POST", "/posts/", """{"title": "x", "content": """, 400)]
    [InlineData("POST", "/posts/", "not json at all", 400)]
    [InlineData("POST", "/posts/", """{"title": 5, "content": "x"}""", 400)]
    [InlineData("POST", "/posts/", """{"content": "no title"}""", 400)]
    [InlineData("POST", "/posts/", """{"title": "no content", "content": ""}""", 400)]
    [InlineData("POST", "/posts/", """{"title": "   ", "content": "blank title"}""", 400)]
    [InlineData("POST", "/posts/", "null", 400)]
    [InlineData("POST", "/posts/", "", 400)]
    [InlineData("PUT", "/posts/999999", """{"title": "x", "content": "y"}""", 404)]
    [InlineData("PUT", "/posts/1", """{"title": "x"}""", 400)]
    [InlineData("PUT", "/posts/abc", """{"title": "x", "content": "y"}""", 400)]
    [InlineData("DELETE", "/posts/999999", null, 404)]
    [InlineData("DELETE", "/posts/0", null, 400)]
    [InlineData("GET", "/no/such/route", null, 404)]
    [InlineData("PATCH", "/posts/1", null, 405)]
    public async Task Bad_request_gets_a_problem_response(string method, string path, string? json, int expectedStatus)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (json is not null)
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");

        using HttpResponseMessage response = await api.Host.Client.SendAsync(request);

        await AssertProblemAsync(response, expectedStatus);
    }

    [Theory]
    [InlineData(201, 1)]
    [InlineData(1, 10_001)]
    public async Task Too_long_fields_are_rejected(int titleLength, int contentLength)
    {
        var body = new { title = new string('t', titleLength), content = new string('c', contentLength) };

        using HttpResponseMessage response = await api.Host.SendJsonAsync(HttpMethod.Post, "/posts/", body);

        await AssertProblemAsync(response, 400);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Oversized_body_is_payload_too_large_and_nothing_is_stored(bool chunked)
    {
        int before = await CountAsync();
        string json = $$"""{"title": "big", "content": "{{new string('c', SampleApp.MaxRequestBodyBytes)}}"}""";
        var content = new StringContent(json, Encoding.UTF8, "application/json");
        if (chunked)
            content = new ChunkedContent(json);

        using HttpResponseMessage response = await api.Host.Client.PostAsync("/posts/", content);

        await AssertProblemAsync(response, 413);
        Assert.Equal(before, await CountAsync());
    }

    private async Task<int> CountAsync()
    {
        using JsonDocument posts = JsonDocument.Parse(await api.Host.Client.GetStringAsync("/posts/"));
        return posts.RootElement.EnumerateObject().Count();
    }

    /// <summary>A body sent without Content-Length, so the server only finds out its size while reading it.</summary>
    private sealed class ChunkedContent(string json) : StringContent(json, Encoding.UTF8, "application/json")
    {
        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task Wrong_content_type_is_unsupported_media_type()
    {
        using HttpResponseMessage response = await api.Host.Client.PostAsync("/posts/", new StringContent("title=x", Encoding.UTF8, "text/plain"));

        await AssertProblemAsync(response, 415);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, int expectedStatus)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(expectedStatus == (int)response.StatusCode, $"expected {expectedStatus}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument problem = JsonDocument.Parse(body);
        Assert.Equal(expectedStatus, problem.RootElement.GetProperty("status").GetInt32());
        Assert.True(problem.RootElement.TryGetProperty("title", out _));
    }
}
