using System.Net.Http.Json;
using UserStream.Streaming.Hosting;
using UserStream.Tests.Pipeline;
using UserStream.Tests.Process;

namespace UserStream.Tests.DeadLetters;

internal sealed record DeadLetterDto(
    string Id, int Partition, long Offset, string? Key, string? Code, string? Reason, string? Stage, string? SourceTopic,
    int? SourcePartition, long? SourceOffset, DateTimeOffset? FailedAt, int ValueSize, string? ValuePreview, int ReplayCount, string? ReplayOf);

internal sealed record DeadLetterPageDto(List<DeadLetterDto> Items, long Scanned, bool Complete);

internal sealed record DeadLetterCountDto(string? Stage, string? Code, long Count);

internal sealed record DeadLetterSummaryDto(long Total, List<DeadLetterCountDto> Counts, long Scanned, bool Complete);

internal sealed record ReplayResultDto(long Selected, long Sent, long Skipped, long Remaining);

/// <summary>A client of the processor's dead-letter API (<c>/dead-letters</c>), as an operator's script would use it.</summary>
internal sealed class DeadLetterApi(HttpClient http, string? apiKey = null)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public HttpClient Http => http;

    public async Task<DeadLetterPageDto> ListAsync(string query = "")
    {
        using var response = await http.GetAsync(new Uri("/dead-letters" + query, UriKind.Relative), Ct);
        return await ReadAsync<DeadLetterPageDto>(response, HttpStatusCode.OK);
    }

    public async Task<DeadLetterSummaryDto> SummaryAsync()
    {
        using var response = await http.GetAsync(new Uri("/dead-letters/summary", UriKind.Relative), Ct);
        return await ReadAsync<DeadLetterSummaryDto>(response, HttpStatusCode.OK);
    }

    /// <summary>POST /dead-letters/replay with <paramref name="body"/> (JSON text, or none).</summary>
    public async Task<HttpResponseMessage> PostReplayAsync(string? body, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/dead-letters/replay")
        {
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if ((key ?? apiKey) is { } sent)
        {
            request.Headers.Add(ApiKeyOptions.HeaderName, sent);
        }

        return await http.SendAsync(request, Ct);
    }

    public async Task<ReplayResultDto> ReplayAsync(string? body)
    {
        using var response = await PostReplayAsync(body);
        return await ReadAsync<ReplayResultDto>(response, HttpStatusCode.OK);
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<T>(text, Json)!;
    }
}

/// <summary>Feeding the processor's table of bad inputs (<see cref="BadInputs"/>) through a <see cref="PipelineRig"/>.</summary>
internal static class DeadLetterFeed
{
    public const string CaseHeader = BadInputRun.CaseHeader;

    /// <summary>The processor's settings with the limits the table of bad inputs assumes; <paramref name="maxFieldLength"/> to raise one.</summary>
    public static Dictionary<string, string?> ProcessSettings(PipelineRig rig, int maxFieldLength = BadInputs.MaxFieldLength, string? apiKey = null)
    {
        var settings = rig.ProcessSettings();
        settings["Process:Validation:MaxRecordBytes"] = BadInputs.MaxRecordBytes.ToString(CultureInfo.InvariantCulture);
        settings["Process:Validation:MaxFieldLength"] = maxFieldLength.ToString(CultureInfo.InvariantCulture);
        settings["Process:Validation:MaxDepth"] = BadInputs.MaxDepth.ToString(CultureInfo.InvariantCulture);
        settings["Process:DeadLetters:ReadTimeout"] = "00:00:10";
        if (apiKey is not null)
        {
            settings["Api:Key"] = apiKey;
        }

        return settings;
    }

    /// <summary>Produces every bad input of the table to users_created (each with its case name in a header).</summary>
    public static Task ProduceBadInputsAsync(PipelineRig rig) =>
        KafkaTopicReader.ProduceAsync(rig.BootstrapServers, Topics.UsersCreated, BadInputs.All.Select(c => new Message<string, byte[]>
        {
            Key = c.Key!,
            Value = c.Value!,
            Headers = new Headers().SetString(CaseHeader, c.Name),
        }), TestContext.Current.CancellationToken);

    /// <summary>Users whose last name is <paramref name="length"/> characters: rejected as field_too_long under the table's limit, valid under the default.</summary>
    public static async Task<List<Guid>> ProduceLongNamesAsync(PipelineRig rig, int count, int length = BadInputs.MaxFieldLength + 44)
    {
        var ids = Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToList();
        await KafkaTopicReader.ProduceAsync(rig.BootstrapServers, Topics.UsersCreated, ids.Select(id =>
        {
            var user = RandomUserJson.Create(id);
            user["name"]!["last"] = new string('n', length);
            return RandomUserJson.Record(id, user, runId: "run-long-names");
        }), TestContext.Current.CancellationToken);
        return ids;
    }

    /// <summary>The records of <paramref name="topic"/> (read-committed, up to its end now) that replay a dead letter, by the dead letter they replay.</summary>
    public static List<ConsumeResult<string, byte[]>> Replayed(PipelineRig rig, string topic) =>
        [.. rig.ReadToEnd(topic).Where(r => r.Message.Headers.GetString(ReplayHeaders.ReplayOf) is not null)];
}
