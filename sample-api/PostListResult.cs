using System.Buffers.Text;
using System.Text.Json;

namespace CacheGen.SampleApi;

/// <summary>
/// Writes the post list in the Django original's shape, <c>{"post_1": {"id": 1, "title": ..., "content": ...}, ...}</c>,
/// straight into the response pipe: no intermediate dictionary of 1000 entries per request.
/// </summary>
internal sealed class PostListResult(IReadOnlyList<Post> posts) : IResult
{
    private static readonly JsonEncodedText IdName = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText TitleName = JsonEncodedText.Encode("title");
    private static readonly JsonEncodedText ContentName = JsonEncodedText.Encode("content");
    private const int PostsPerFlush = 256;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        HttpResponse response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(response.BodyWriter);
        writer.WriteStartObject();
        for (int i = 0; i < posts.Count; i++)
        {
            WritePost(writer, posts[i]);
            // Hand big lists to the socket in chunks instead of buffering the whole body.
            if ((i + 1) % PostsPerFlush == 0)
            {
                writer.Flush();
                await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
            }
        }
        writer.WriteEndObject();
        writer.Flush();
        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }

    private static void WritePost(Utf8JsonWriter writer, Post post)
    {
        Span<byte> name = stackalloc byte[16];
        "post_"u8.CopyTo(name);
        Utf8Formatter.TryFormat(post.Id, name[5..], out int digits);
        writer.WritePropertyName(name[..(5 + digits)]);
        writer.WriteStartObject();
        writer.WriteNumber(IdName, post.Id);
        writer.WriteString(TitleName, post.Title);
        writer.WriteString(ContentName, post.Content);
        writer.WriteEndObject();
    }
}
