"""Loading circuits: unsafe XML, invalid BPMN and circuits that could not run are refused at upload."""

from __future__ import annotations

import pytest

from tests.unit.workflows.builders import (
    LANES,
    SIMPLE,
    circuit_xml,
    gateway_xml,
    timer_xml,
)
from workflows.engine import BUNDLED_CIRCUITS, CircuitEngine, bundled_definition
from workflows.errors import InvalidCircuit
from workflows.parsing import MAX_BYTES, parse_circuit

BILLION_LAUGHS = (
    "<!DOCTYPE lolz [\n"
    '  <!ENTITY lol "lol">\n'
    '  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    '  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">\n'
    '  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n'
    "]>\n"
)


def refusal(engine: CircuitEngine, definition: bytes) -> str:
    with pytest.raises(InvalidCircuit) as caught:
        engine.load(definition)
    return str(caught.value)


def test_a_minimal_circuit_loads_with_its_lanes(engine: CircuitEngine) -> None:
    circuit = engine.load(circuit_xml())

    assert circuit.process_id == "tiny"
    assert circuit.lanes == ("clerk",)
    assert [task.bpmn_id for task in circuit.user_tasks] == ["work"]


@pytest.mark.parametrize("process_id", BUNDLED_CIRCUITS)
def test_bundled_circuits_load_under_their_file_name(
    engine: CircuitEngine, process_id: str
) -> None:
    circuit = engine.load(bundled_definition(process_id))

    assert circuit.process_id == process_id
    assert all(task.lane in circuit.lanes for task in circuit.user_tasks)


def test_a_definition_is_parsed_once_per_content(engine: CircuitEngine) -> None:
    calls: list[bytes] = []

    def counting_parser(data: bytes):  # type: ignore[no-untyped-def]
        calls.append(data)
        return parse_circuit(data)

    counting = CircuitEngine(parser=counting_parser)
    definition = bundled_definition("document_approval")
    first = counting.load(definition)
    second = counting.load(bytes(definition))

    assert first is second
    assert len(calls) == 1
    counting.load(definition.replace(b"Relire le document", b"Relire"))
    assert len(calls) == 2


# Unsafe XML (RELIABILITY.md item 6).


def test_billion_laughs_is_refused_before_any_expansion(engine: CircuitEngine) -> None:
    body = SIMPLE.replace('name="Work"', 'name="&lol3;"')
    message = refusal(engine, circuit_xml(body, doctype=BILLION_LAUGHS))

    assert "DOCTYPE" in message
    assert "billion laughs" in message


def test_external_entity_is_refused_and_no_file_is_read(engine: CircuitEngine) -> None:
    doctype = '<!DOCTYPE definitions [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
    body = SIMPLE.replace('name="Work"', 'name="&secret;"')
    message = refusal(engine, circuit_xml(body, doctype=doctype))

    assert "external entities" in message
    assert "root:" not in message


def test_external_dtd_is_refused(engine: CircuitEngine) -> None:
    doctype = '<!DOCTYPE definitions SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
    assert "DOCTYPE" in refusal(engine, circuit_xml(doctype=doctype))


def test_malformed_xml_is_refused_with_its_position(engine: CircuitEngine) -> None:
    message = refusal(engine, b'<?xml version="1.0"?>\n<bpmn:definitions')
    assert message.startswith("The file is not well-formed XML:")
    assert "line 2" in message


def test_empty_file_is_refused(engine: CircuitEngine) -> None:
    assert "empty" in refusal(engine, b"  \n")


def test_oversized_file_is_refused_without_parsing(engine: CircuitEngine) -> None:
    assert "limited to" in refusal(engine, b" " * (MAX_BYTES + 1))


def test_xml_that_is_not_bpmn_is_refused(engine: CircuitEngine) -> None:
    assert "root element is <html>" in refusal(engine, b"<html><body/></html>")


def test_bpmn_that_breaks_the_schema_is_refused_with_its_line(engine: CircuitEngine) -> None:
    body = SIMPLE.replace('<bpmn:endEvent id="done"/>', '<bpmn:endEvent id="done" colour="red"/>')
    message = refusal(engine, circuit_xml(body))
    assert "not valid BPMN 2.0 (line" in message
    assert "colour" in message


# Circuit rules.


def test_a_user_task_outside_every_lane_is_refused(engine: CircuitEngine) -> None:
    message = refusal(engine, circuit_xml(lanes=""))
    assert "id='work'" in message
    assert "not in any lane" in message


def test_a_lane_without_name_is_refused(engine: CircuitEngine) -> None:
    message = refusal(engine, circuit_xml(lanes=LANES.replace(' name="clerk"', "")))
    assert "has no name" in message


def test_a_start_event_with_the_id_start_is_refused(engine: CircuitEngine) -> None:
    body = SIMPLE.replace('"begin"', '"Start"')
    message = refusal(engine, circuit_xml(body))
    assert "reserves" in message
    assert "No output task connected" in message


def test_ids_clashing_with_engine_names_are_refused(engine: CircuitEngine) -> None:
    body = SIMPLE.replace('"done"', '"End"')
    assert "reserved" in refusal(engine, circuit_xml(body))


def test_script_tasks_are_refused(engine: CircuitEngine) -> None:
    script = (
        '<bpmn:scriptTask id="work" scriptFormat="python">'
        "<bpmn:script>import os</bpmn:script></bpmn:scriptTask>"
    )
    body = SIMPLE.replace('<bpmn:userTask id="work" name="Work"/>', script)
    message = refusal(engine, circuit_xml(body))
    assert "Script tasks are not allowed" in message


def test_service_tasks_are_refused(engine: CircuitEngine) -> None:
    body = SIMPLE.replace("bpmn:userTask", "bpmn:serviceTask")
    assert "Service tasks are not supported" in refusal(engine, circuit_xml(body))


def test_a_second_process_is_refused(engine: CircuitEngine) -> None:
    roots = '<bpmn:process id="other" isExecutable="true"><bpmn:startEvent id="s2"/></bpmn:process>'
    assert "exactly one executable process" in refusal(engine, circuit_xml(roots=roots))


def test_a_process_not_marked_executable_is_refused(engine: CircuitEngine) -> None:
    message = refusal(engine, circuit_xml(process_attrs='isExecutable="false"'))
    assert "not marked executable" in message


def test_a_process_id_that_is_not_snake_case_is_refused(engine: CircuitEngine) -> None:
    assert "snake_case" in refusal(engine, circuit_xml(process_id="Incoming-Mail"))


def test_an_unsafe_gateway_condition_is_refused_at_upload(engine: CircuitEngine) -> None:
    message = refusal(engine, gateway_xml("().__class__.__base__.__subclasses__()"))
    assert "attribute access" in message
    assert "id='f3'" in message


def test_a_condition_that_cannot_be_computed_is_refused_at_upload(engine: CircuitEngine) -> None:
    assert "exponents are limited" in refusal(engine, gateway_xml("9**9**9 &gt; 1"))


def test_a_loop_without_any_user_task_is_refused(engine: CircuitEngine) -> None:
    body = (
        '<bpmn:startEvent id="begin"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="again"/>'
        '<bpmn:exclusiveGateway id="again"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="again" targetRef="spin"/>'
        '<bpmn:task id="spin"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="spin" targetRef="again"/>'
        '<bpmn:userTask id="work"/>'
    )
    assert "again → spin → again loops" in refusal(engine, circuit_xml(body))


def test_timers_with_iso_literals_and_variables_load(engine: CircuitEngine) -> None:
    for expression in ("P3D", "PT4H", "'P3D'", "2026-12-01T17:00:00+01:00", "deadline_value"):
        engine.load(timer_xml(expression))


def test_a_timer_that_is_not_an_iso_duration_is_refused(engine: CircuitEngine) -> None:
    assert "not an ISO-8601 duration" in refusal(engine, timer_xml("P3X"))


def test_a_timer_date_without_utc_offset_is_refused(engine: CircuitEngine) -> None:
    assert "no UTC offset" in refusal(engine, timer_xml("2026-12-01T10:00:00", element="timeDate"))


def test_an_absurdly_long_timer_is_refused(engine: CircuitEngine) -> None:
    assert "longer than" in refusal(engine, timer_xml("P999999999Y"))


def test_repeating_timers_are_refused(engine: CircuitEngine) -> None:
    assert "timeCycle" in refusal(engine, timer_xml("R3/PT1H", element="timeCycle"))


def test_an_unsafe_timer_expression_is_refused(engine: CircuitEngine) -> None:
    assert "underscore" in refusal(engine, timer_xml("__import__('os')"))


def test_outcomes_must_be_snake_case_words(engine: CircuitEngine) -> None:
    extension = (
        "<bpmn:extensionElements><ged:outcomes><ged:outcome name='Approve!'/>"
        "</ged:outcomes></bpmn:extensionElements>"
    )
    assert "snake_case word" in refusal(engine, gateway_xml("True", task_extension=extension))


def test_a_circuit_declares_the_events_it_may_throw(engine: CircuitEngine) -> None:
    circuit = engine.load(bundled_definition("incoming_mail"))

    assert circuit.thrown_events == ("processing_overdue",)
    assert circuit.end_events == ("filed", "processing_overdue", "answered", "closed")
    opinion, processing = circuit.user_task("give_opinion"), circuit.user_task("process")
    assert opinion is not None
    assert opinion.instance_variable == "consulted_unit"
    assert processing is not None
    assert processing.has_deadline
